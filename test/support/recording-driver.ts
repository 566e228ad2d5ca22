// RecordingDriver stands in for a topology in the API tests: it records which driver calls the
// API made (provision, destroy, flushCaches, ...) and answers at once; a deployed release shows
// on every app node at once, as after a roll that went through. The real local driver
// (processes, Varnish, HAProxy) is tested by the topology and deploy tests.
import type { Environment } from '../../src/domain/model.ts';
import type { DeployOutcome, EntryPoints, NodeView, Release, TopologyDriver, TopologyView } from '../../src/topology/driver.ts';

export interface DriverCall {
  method: keyof TopologyDriver;
  environmentId: string;
}

export class RecordingDriver implements TopologyDriver {
  readonly calls: DriverCall[] = [];
  /** Make provision fail (to test the `failed` status). */
  failProvision = false;
  /** The release each environment was last deployed with. */
  readonly releases = new Map<string, Release>();

  private record(method: keyof TopologyDriver, env: Environment): void {
    this.calls.push({ method, environmentId: env.id });
  }

  async provision(env: Environment): Promise<unknown> {
    this.record('provision', env);
    if (this.failProvision) throw new Error('provisioning refused (test)');
    return { recorded: true, publishCount: env.settings.publishCount };
  }
  async destroy(env: Environment): Promise<void> {
    this.record('destroy', env);
  }
  async adopt(env: Environment): Promise<void> {
    this.record('adopt', env);
  }
  async describe(env: Environment): Promise<TopologyView> {
    this.record('describe', env);
    const node = (name: string, role: NodeView['role']): NodeView => ({ name, role, url: 'http://127.0.0.1:9', healthy: false });
    const deployed = this.releases.get(env.id);
    const app = (name: string, role: NodeView['role']): NodeView => (deployed
      ? { ...node(name, role), release: { version: deployed.version, appImage: deployed.appImage } } : node(name, role));
    return {
      environmentId: env.id, author: app('author', 'author'),
      publish: Array.from({ length: env.settings.publishCount }, (_, i) => app(`publish-${i + 1}`, 'publish')),
      dispatchers: Array.from({ length: env.settings.publishCount }, (_, i) => node(`dispatcher-${i + 1}`, 'dispatcher')),
      loadBalancer: node('lb', 'loadBalancer'),
    };
  }
  /** AEM's classic author and publish ports: distinct, so a test can tell the links apart. */
  async entryPoints(env: Environment): Promise<EntryPoints> {
    this.record('entryPoints', env);
    return { author: 'http://127.0.0.1:4502', publish: 'http://127.0.0.1:4503' };
  }
  async deploy(env: Environment, release: Release): Promise<DeployOutcome> {
    this.record('deploy', env);
    this.releases.set(env.id, release);
    return { outcome: 'deployed' };
  }
  async flushCaches(env: Environment): Promise<void> {
    this.record('flushCaches', env);
  }
}
