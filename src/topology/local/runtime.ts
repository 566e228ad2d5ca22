// One provisioned environment at run time: its record (provisioned-env.ts) with the parts the
// rolling deploy, the supervisor and adopt drive: app nodes, dispatchers, the load balancer,
// each dispatcher's routing, a pair's warm-up. And reconcile, which takes the environment
// over, from a deploy cut off or a Slipway restarted.
import { AppNodes } from './app-nodes.ts';
import { Dispatchers } from './dispatchers.ts';
import { LoadBalancer } from './load-balancer.ts';
import { ProvisionedEnv } from './provisioned-env.ts';
import { Routing } from './routing.ts';
import { WarmUp } from './warm-up.ts';

export class EnvRuntime extends ProvisionedEnv {
  readonly appNodes = new AppNodes(this);
  readonly dispatchers = new Dispatchers(this);
  readonly loadBalancer = new LoadBalancer(this);
  readonly routing = new Routing(this);
  readonly warmUp = new WarmUp(this);

  /**
   * Takes over the environment: kills processes a cut-off deploy started but never switched
   * to, restarts dead nodes, and supervises every node from now on.
   */
  async reconcile(): Promise<void> {
    await this.appNodes.removeStrays();
    this.loadBalancer.watch();
    this.dispatchers.watch();
    await this.loadBalancer.ensure();
    for (let i = 0; i < this.state.dispatchers.length; i++) await this.dispatchers.ensure(i);
    await this.appNodes.keepAlive();
    await this.save();
  }
}
