// One provisioned environment as its run-time parts share it (app-nodes.ts, dispatchers.ts,
// load-balancer.ts, routing.ts, warm-up.ts; runtime.ts puts them together): its recorded
// state and the saves of it, its nodes by pair index, its supervision, and the handles every
// part uses (the image cache, the app runner, each dispatcher's Varnish admin).
import { join } from 'node:path';
import { HEALTH_LABEL } from '../../artifacts/artifact-types.ts';
import { readImageConfig } from '../../artifacts/oci-format.ts';
import type { ArtifactStore } from '../../artifacts/store.ts';
import { SandboxAppRunner, type AppRunner } from './app-runner.ts';
import { ImageCache, type UnpackImage } from './images.ts';
import { saveState, type AppNodeState, type DispatcherState, type TopologyState } from './state.ts';
import type { Supervisor, Watched } from './supervisor.ts';
import { VarnishAdmin } from './varnish.ts';

export interface RuntimeOptions {
  store: ArtifactStore;
  unpack: UnpackImage;
  log: (line: string) => void;
  healthTimeoutMs: number;
  warmTimeoutMs: number;
  stopGraceMs: number;
  supervisor?: Supervisor;
  /** How app nodes run (default: the sandbox, from the unpacked image). */
  apps?: (images: ImageCache) => AppRunner;
}

export class ProvisionedEnv {
  readonly images: ImageCache;
  readonly apps: AppRunner;
  private saving: Promise<void> = Promise.resolve();

  constructor(readonly state: TopologyState, readonly opts: RuntimeOptions) {
    this.images = new ImageCache(join(state.dir, 'images'), opts.store, opts.unpack);
    this.apps = opts.apps?.(this.images) ?? new SandboxAppRunner(this.images);
  }

  get logDir(): string { return join(this.state.dir, 'logs'); }

  varnish(i: number): VarnishAdmin { return new VarnishAdmin(this.dispatcher(i).workDir); }

  dispatcher(i: number): DispatcherState {
    const d = this.state.dispatchers[i];
    if (!d) throw new Error(`no dispatcher ${i + 1}`);
    return d;
  }

  publish(i: number): AppNodeState {
    const p = this.state.publish[i];
    if (!p) throw new Error(`no publish ${i + 1}`);
    return p;
  }

  /** Writes are serialized: the supervisor and a deploy may both record changes. */
  save(): Promise<void> {
    const next = this.saving.catch(() => undefined).then(() => saveState(this.state));
    this.saving = next;
    return next;
  }

  /** Has the supervisor restart node `name` when it dies (a no-op for a driver that supervises nothing). */
  supervise(name: string, watched: Watched): void {
    this.opts.supervisor?.watch(`${this.state.environmentId}/${name}`, watched);
  }

  /** Called before a deliberate stop, so the stop is not mistaken for a crash. */
  unsupervise(name: string): void {
    this.opts.supervisor?.unwatch(`${this.state.environmentId}/${name}`);
  }

  /** The health path of what an app node runs (older states recorded none: the default). */
  healthPathOf(node: AppNodeState): string {
    return node.release?.healthPath ?? this.state.healthPath;
  }

  /** The health path an app image declares (its HEALTH_LABEL), else the environment default. */
  async releaseHealthPath(appImage: string): Promise<string> {
    // The config blob alone: no need to unpack an image (or pull it into podman) to read a label.
    const label = (await readImageConfig(this.opts.store, appImage)).config.Labels?.[HEALTH_LABEL];
    return label !== undefined && /^\/[^\s"]*$/.test(label) ? label : this.state.healthPath;
  }
}
