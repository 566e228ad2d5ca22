// The app nodes, author and publish, at run time: a release started beside what a node runs and
// health-checked, then switched to (or discarded); a dead node restarted with its recorded
// release; every node that runs a release watched by the supervisor. How a process is started
// at all is the AppRunner's (app-runner.ts: the sandbox, or podman).
import { dirname, join } from 'node:path';
import { sameAppRelease } from '../../domain/rolling-plan.ts';
import { freePort } from '../../runner/free-port.ts';
import { DeployFailure } from './deploy-steps.ts';
import { isHealthy, waitFor } from './http.ts';
import { isOurProcess, type ProcessRecord } from './proc.ts';
import type { ProvisionedEnv } from './provisioned-env.ts';
import type { AppNodeState, AppRelease } from './state.ts';

export interface SwitchOptions {
  /** Port for the new process (default: a fresh one). */
  port?: number;
  /** Points traffic at the new, healthy process (publish: its dispatcher's VCL). */
  switchTo?: (port: number) => Promise<void>;
  onStarted?: (ms: number) => void;
  deferStop?: (stopping: Promise<void>) => void;
}

/** A new process started beside the node's current one, healthy, not switched to yet. */
export interface StartedApp {
  node: AppNodeState;
  release: AppRelease;
  port: number;
  process: ProcessRecord;
  /** From spawn to healthy. */
  ms: number;
}

export class AppNodes {
  constructor(private readonly env: ProvisionedEnv) {}

  private get all(): AppNodeState[] {
    return [this.env.state.author, ...this.env.state.publish];
  }

  private spawn(node: AppNodeState, release: AppRelease, port: number): Promise<ProcessRecord> {
    const { state } = this.env;
    return this.env.apps.start({
      environmentId: state.environmentId, node, release, port, logDir: this.env.logDir,
      runDir: join(state.dir, 'run', node.name), envDir: state.dir,
      // The env dir is <dataDir>/environments/<id>: the app sees none of the data dir.
      hidePaths: [dirname(dirname(state.dir))],
      log: this.env.opts.log,
    });
  }

  private stop(record: ProcessRecord | undefined): Promise<void> {
    return this.env.apps.stop(record, this.env.opts.stopGraceMs);
  }

  private watch(node: AppNodeState): void {
    this.env.supervise(node.name, { current: () => node.process, restart: () => this.restart(node) });
  }

  /** Restarts an app node on its recorded port with its recorded release. */
  async restart(node: AppNodeState): Promise<void> {
    if (!node.release || isOurProcess(node.process)) return;
    const was = node.process;
    await this.stop(was); // frees what the dead one left (cgroups, staging dir, container)
    const spawned = await this.spawn(node, node.release, node.port);
    if (node.process !== was) {
      // A deploy switched the node to a new process while this one was starting: keep theirs.
      await this.stop(spawned);
      return;
    }
    node.process = spawned;
    await this.env.save();
    this.env.opts.log(`${node.name}: restarted as pid ${spawned.pid}`);
  }

  /**
   * At adopt, before anything is restarted: kills processes a cut-off deploy started but never
   * switched to, and whatever the runner started that no record names.
   */
  async removeStrays(): Promise<void> {
    for (const node of this.all) {
      if (node.pending) {
        await this.stop(node.pending.process);
        node.pending = undefined;
      }
    }
    const recorded = this.all.flatMap((n) => (n.process ? [n.process] : []));
    await this.env.apps.sweep?.({ id: this.env.state.environmentId, dir: this.env.state.dir }, recorded);
  }

  /** At adopt: restarts the dead nodes and supervises every node that runs a release. */
  async keepAlive(): Promise<void> {
    for (const node of this.all) {
      // A node that never got a release runs nothing yet: there is nothing to keep alive.
      if (!node.release) continue;
      await this.restart(node);
      this.watch(node);
    }
  }

  /**
   * Starts `release` on a new port, waits for its health check, lets the caller switch
   * traffic to it (`switchTo`), records it, then stops the old process gracefully (or hands
   * that stop to `deferStop`, so it leaves the critical path).
   */
  async switchRelease(node: AppNodeState, release: AppRelease | undefined, how: SwitchOptions = {}): Promise<void> {
    if (!release) { // rolled back to "nothing deployed yet"
      this.env.unsupervise(node.name);
      const old = node.process;
      node.process = undefined;
      node.release = undefined;
      await this.env.save();
      await this.stop(old);
      return;
    }
    const started = await this.startBeside(node, release, how.port);
    how.onStarted?.(started.ms);
    await this.takeOver(started, how);
  }

  /**
   * Starts `release` beside what the node runs now, on `port` (default: a fresh one), and waits
   * for its health check; nothing is switched yet. Recorded as the node's `pending` process,
   * so a Slipway killed before the switch leaves no stray (removeStrays stops it). A process
   * that fails its check is stopped before this throws.
   */
  async startBeside(node: AppNodeState, release: AppRelease, port?: number): Promise<StartedApp> {
    const startedAt = Date.now();
    const on = port ?? await freePort();
    const spawned = await this.spawn(node, release, on);
    node.pending = { port: on, process: spawned };
    await this.env.save();
    const started: StartedApp = { node, release, port: on, process: spawned, ms: 0 };
    const healthPath = release.healthPath ?? this.env.state.healthPath;
    const healthy = await waitFor(() => isHealthy(on, healthPath),
      { timeoutMs: this.env.opts.healthTimeoutMs, intervalMs: 25, giveUp: () => !isOurProcess(spawned) });
    if (!healthy) {
      await this.discard(started);
      throw new DeployFailure(`${node.name}: release ${release.version} failed its health check on ${healthPath}`);
    }
    started.ms = Date.now() - startedAt;
    return started;
  }

  /** Stops a process started beside and never switched to. */
  async discard(started: StartedApp): Promise<void> {
    await this.stop(started.process);
    if (started.node.pending?.process === started.process) {
      started.node.pending = undefined;
      await this.env.save();
    }
  }

  /**
   * Makes a process started beside the node's own: the caller switches traffic to it
   * (`switchTo`), then it is recorded and the old one stopped. A failed switch stops the new one.
   */
  async takeOver(started: StartedApp, how: Pick<SwitchOptions, 'switchTo' | 'deferStop'> = {}): Promise<void> {
    const { node, release, port, process: spawned } = started;
    try {
      await how.switchTo?.(port);
    } catch (err) {
      await this.discard(started);
      throw err;
    }
    this.env.unsupervise(node.name);
    const old = node.process;
    Object.assign(node, { process: spawned, port, release, pending: undefined });
    await this.env.save();
    this.watch(node);
    const stopping = this.stop(old);
    if (how.deferStop) how.deferStop(stopping); else await stopping;
  }

  /** Does the node run `release`, in a process that is alive? */
  runs(node: AppNodeState, release: AppRelease): boolean {
    return sameAppRelease(node.release, release) && isOurProcess(node.process);
  }
}
