// The Varnish dispatchers as processes: started until they answer, their routing restored at
// once (a new varnishd knows only its VCL, not which slot is live), restarted once when found
// dead (restarts.ts), and watched by the supervisor. What they route to is routing.ts's.
import type { ProvisionedEnv } from './provisioned-env.ts';
import { restartIfDead, startUntilUp } from './restarts.ts';
import { startVarnish } from './nodes.ts';
import { slotIndex } from './slots.ts';

export class Dispatchers {
  constructor(private readonly env: ProvisionedEnv) {}

  async start(i: number): Promise<void> {
    const d = this.env.dispatcher(i);
    const admin = this.env.varnish(i);
    const up = await startUntilUp(() => {
      const spawned = startVarnish(d, this.env.logDir);
      d.process = spawned.record;
      d.activeVcl = 'boot';
      return spawned.record;
    }, () => admin.ping(), 30_000);
    if (!up) throw new Error(`${d.name}: varnishd did not start (see ${d.name}.log)`);
    await this.restoreRouting(i);
    await this.env.save();
  }

  /**
   * A (re)started varnishd forgets set_health, and `.initial` makes both slots healthy: route
   * at once to the slot the publish node's recorded process runs on (HAProxy needs two good
   * checks, a second, before it sends the dispatcher anything).
   */
  private async restoreRouting(i: number): Promise<void> {
    const d = this.env.dispatcher(i);
    if (!d.slotPorts) return; // a VCL from before slots: a single backend
    const pubPort = this.env.publish(i).port;
    const port = slotIndex(d.slotPorts, pubPort) !== undefined ? pubPort : d.backendPort;
    const index = slotIndex(d.slotPorts, port);
    if (index === undefined) return;
    await this.env.varnish(i).routeTo(index);
    d.backendPort = port;
  }

  /** Restarts dispatcher i if its varnishd died (killed, crashed); true if it had to. */
  ensure(i: number): Promise<boolean> {
    const d = this.env.dispatcher(i);
    return restartIfDead(this.env, d.name, () => d.process, (saved) => {
      const s = saved.dispatchers[i];
      if (s) Object.assign(d, { process: s.process, activeVcl: s.activeVcl, backendPort: s.backendPort });
    }, () => this.start(i));
  }

  /** Dispatchers are restarted by the supervisor, like app nodes. */
  watch(): void {
    this.env.state.dispatchers.forEach((d, i) => this.env.supervise(d.name, {
      current: () => d.process,
      restart: async () => { await this.ensure(i); },
    }));
  }
}
