// Each environment runs on the driver it chose when it was created (settings.driver): its app
// nodes as local sandboxed processes or as podman containers. This driver hands every call to
// that one; environments from before the choice existed run on the local driver.
import type { Environment, TopologyDriverName } from '../domain/model.ts';
import type {
  DeployOptions, DeployOutcome, DriverChoice, EntryPoints, EnvironmentLogs, LogOption, Release, TopologyDriver, TopologyView,
} from './driver.ts';

export interface DriverSet {
  local: TopologyDriver;
  containers: TopologyDriver;
  /** Why containers cannot run here (checked once, lazily), or undefined when they can. */
  containersProblem(): Promise<string | undefined>;
}

export class TopologyDrivers implements TopologyDriver {
  readonly choice: DriverChoice;
  readonly logs?: EnvironmentLogs;

  constructor(private readonly set: DriverSet) {
    this.choice = {
      problem: async (name) => (name === 'containers' ? set.containersProblem() : undefined),
      defaultName: async () => (await set.containersProblem() === undefined ? 'containers' : 'local'),
    };
    const { local } = set;
    if (local.logs) {
      const logsOf = (env: Environment): EnvironmentLogs => {
        const logs = this.of(env).logs;
        if (!logs) throw new Error(`the ${driverNameOf(env)} driver keeps no logs`);
        return logs;
      };
      this.logs = {
        options: (): LogOption[] => local.logs?.options() ?? [],
        days: (env, option, date) => logsOf(env).days(env, option, date),
        open: (env, stream, date) => logsOf(env).open(env, stream, date),
      };
    }
  }

  of(env: Environment): TopologyDriver {
    return this.set[driverNameOf(env)];
  }

  provision(env: Environment): Promise<unknown> { return this.of(env).provision(env); }
  destroy(env: Environment): Promise<void> { return this.of(env).destroy(env); }
  adopt(env: Environment): Promise<void> { return this.of(env).adopt(env); }
  describe(env: Environment): Promise<TopologyView> { return this.of(env).describe(env); }
  async entryPoints(env: Environment): Promise<EntryPoints> { return await this.of(env).entryPoints?.(env) ?? {}; }
  deploy(env: Environment, release: Release, options: DeployOptions): Promise<DeployOutcome> {
    return this.of(env).deploy(env, release, options);
  }
  flushCaches(env: Environment, paths?: string[]): Promise<void> { return this.of(env).flushCaches(env, paths); }
  async close(): Promise<void> {
    await this.set.local.close?.();
    await this.set.containers.close?.();
  }
}

export function driverNameOf(env: Pick<Environment, 'settings'>): TopologyDriverName {
  return env.settings.driver ?? 'local';
}
