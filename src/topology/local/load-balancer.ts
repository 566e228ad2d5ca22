// The environment's HAProxy at run time: started until it answers, restarted once when found
// dead (restarts.ts) and watched by the supervisor; and the pairs taken out of it (drain) and
// put back (attach) by the rolling deploy. A restarted HAProxy reads its config, in which
// every dispatcher is in: the ones a deploy has drained are drained again at once.
import { HaproxyAdmin } from './haproxy.ts';
import { POLL_MS, waitFor } from './http.ts';
import { startHaproxy } from './nodes.ts';
import type { ProvisionedEnv } from './provisioned-env.ts';
import { restartIfDead, startUntilUp } from './restarts.ts';

export class LoadBalancer {
  readonly admin: HaproxyAdmin;
  /** Servers a deploy has drained and not yet put back: a restarted HAProxy must drain them again. */
  private readonly drained = new Set<string>();

  constructor(private readonly env: ProvisionedEnv) {
    this.admin = new HaproxyAdmin(env.state.loadBalancer.socket);
  }

  async start(): Promise<void> {
    const lb = this.env.state.loadBalancer;
    const up = await startUntilUp(() => {
      const spawned = startHaproxy(lb, this.env.logDir);
      lb.process = spawned.record;
      return spawned.record;
    }, async () => (await this.admin.command('show info').catch(() => '')).includes('Name:'), 15_000);
    if (!up) throw new Error('load balancer: haproxy did not start (see loadBalancer.log)');
    for (const server of this.drained) await this.admin.setState(server, 'drain');
    await this.env.save();
  }

  /** Restarts HAProxy if it died; true if it had to. */
  ensure(): Promise<boolean> {
    const lb = this.env.state.loadBalancer;
    return restartIfDead(this.env, 'loadBalancer', () => lb.process, (saved) => { lb.process = saved.loadBalancer.process; },
      () => this.start());
  }

  /** The load balancer is restarted by the supervisor, like app nodes. */
  watch(): void {
    this.env.supervise('loadBalancer', {
      current: () => this.env.state.loadBalancer.process,
      restart: async () => { await this.ensure(); },
    });
  }

  async drain(i: number): Promise<void> {
    const server = this.env.dispatcher(i).server;
    this.drained.add(server);
    await this.admin.setState(server, 'drain');
  }

  /** Polls `show stat` until none of the servers has a request in flight (or maxMs passes). */
  async waitDrained(pairs: readonly number[], maxMs: number): Promise<{ waitedMs: number; timedOut: boolean }> {
    const names = new Set(pairs.map((i) => this.env.dispatcher(i).server));
    const start = Date.now();
    const drained = await waitFor(async () => {
      const servers = await this.admin.servers();
      return servers.every((s) => !names.has(s.server) || s.scur === 0);
    }, { timeoutMs: maxMs, intervalMs: POLL_MS });
    return { waitedMs: Date.now() - start, timedOut: !drained };
  }

  /** Back into the load balancer: the dispatcher was just health-checked through, so mark it up. */
  async attach(i: number): Promise<void> {
    const server = this.env.dispatcher(i).server;
    if (this.env.publish(i).release) await this.admin.setHealth(server, 'up');
    await this.admin.setState(server, 'ready');
    this.drained.delete(server);
  }
}
