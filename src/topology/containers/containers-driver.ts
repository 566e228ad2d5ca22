// The container topology driver: the local driver's environment (the same rolling procedure,
// Varnish dispatchers and HAProxy load balancer, state file, supervisor, adopt, logs) with its
// app nodes, author and publish, run as podman containers from the release's image by digest
// (app-runner.ts). Containers are detached from Slipway (conmon keeps them), so they serve on
// while Slipway is stopped or killed; adopt finds them by their recorded pid and removes any
// container labelled with the environment that no record names. Once a deploy has settled,
// the images no environment runs or keeps for a rollback leave podman's storage (kept-images.ts).
import { join } from 'node:path';
import type { Environment } from '../../domain/model.ts';
import type { DeployOptions, DeployOutcome, Release } from '../driver.ts';
import { LocalDriver, type LocalDriverOptions } from '../local/local-driver.ts';
import type { AppRunner } from '../local/app-runner.ts';
import { ContainerAppRunner } from './app-runner.ts';
import { keptImages, recordDeploying, recordSettled } from './kept-images.ts';
import { Podman } from './podman.ts';

/** Where Slipway keeps its podman configuration (containers.conf). */
export const podmanDir = (dataDir: string): string => join(dataDir, 'podman');

export class ContainersDriver extends LocalDriver {
  readonly podman: Podman;
  private readonly runner: ContainerAppRunner;
  private readonly environmentsDir: string;
  /** One prune at a time in this process (two would race for the same images). */
  private pruning: Promise<unknown> = Promise.resolve();

  constructor(options: LocalDriverOptions) {
    super(options);
    this.environmentsDir = join(options.dataDir, 'environments');
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

  override async deploy(env: Environment, release: Release, options: DeployOptions): Promise<DeployOutcome> {
    if (options.dispatcherOnly) return super.deploy(env, release, options);
    const dir = this.envDir(env);
    await recordDeploying(dir, release.appImage);
    let outcome: DeployOutcome | undefined;
    try {
      outcome = await super.deploy(env, release, options);
    } finally {
      await recordSettled(dir, outcome?.outcome === 'deployed' ? release.appImage : undefined)
        .catch((err: unknown) => options.log(`podman storage: the kept images of ${env.id} not recorded: ${String(err)}`));
    }
    // Housekeeping, after the deploy has answered: the step does not wait for podman's lists.
    if (outcome.outcome === 'deployed') void this.pruneImages();
    return outcome;
  }

  /**
   * Removes from podman's storage the images no environment of this data dir runs or keeps,
   * telling the driver's log; never fails (a deploy that settled is not undone by a podman
   * refusing to remove an image). Resolves once this prune and any before it are done.
   */
  pruneImages(): Promise<unknown> {
    const run = (): Promise<unknown> => this.runner.images.prune(() => keptImages(this.environmentsDir), this.log);
    this.pruning = this.pruning.then(run).catch((err: unknown) => {
      this.log(`podman storage: no image removed: ${err instanceof Error ? err.message : String(err)}`);
    });
    return this.pruning;
  }

  /** Also removes the environment's network. */
  override async destroy(env: Environment): Promise<void> {
    await super.destroy(env);
    await this.runner.removeNetwork(env.id);
  }

  /** Whatever carries the environment's label (containers outlive Slipway: conmon keeps them). */
  protected override async sweepUnrecorded(env: Environment): Promise<void> {
    await this.runner.sweep({ id: env.id }, []);
  }
}
