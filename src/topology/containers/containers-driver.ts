// The container topology driver: the local driver's environment (the same rolling procedure,
// Varnish dispatchers and HAProxy load balancer, state file, supervisor, adopt, logs) with its
// app nodes, author and publish, run as podman containers from the release's image by digest
// (app-runner.ts). Containers are detached from Slipway (conmon keeps them), so they serve on
// while Slipway is stopped or killed; adopt finds them by their recorded pid and removes any
// container labelled with the environment that no record names.
import { join } from 'node:path';
import type { Environment } from '../../domain/model.ts';
import { LocalDriver, type LocalDriverOptions } from '../local/local-driver.ts';
import type { AppRunner } from '../local/app-runner.ts';
import { ContainerAppRunner } from './app-runner.ts';
import { Podman } from './podman.ts';

/** Where Slipway keeps its podman configuration (containers.conf). */
export const podmanDir = (dataDir: string): string => join(dataDir, 'podman');

export class ContainersDriver extends LocalDriver {
  readonly podman: Podman;
  private readonly runner: ContainerAppRunner;

  constructor(options: LocalDriverOptions) {
    super(options);
    this.podman = new Podman(podmanDir(options.dataDir));
    this.runner = new ContainerAppRunner(this.podman, options.store);
  }

  override get name(): string { return 'containers'; }

  protected override appRunner(): () => AppRunner {
    return () => this.runner;
  }

  override async provision(env: Environment): Promise<unknown> {
    await this.runner.ensureNetwork(env.id);
    return super.provision(env);
  }

  /** Also removes whatever carries the environment's label, and its network. */
  override async destroy(env: Environment): Promise<void> {
    await super.destroy(env);
    await this.runner.sweep(env.id, []);
    await this.runner.removeNetwork(env.id);
  }
}
