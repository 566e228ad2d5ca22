// The rolling deployment, executed: author first, then each batch of publish/dispatcher pairs
// drained → deployed → flushed → warmed → health-checked → put back; on failure every pair
// already touched goes back to what it ran before, with the same care. Ordering comes from
// domain/rolling-plan.ts; the operations from runtime.ts.
import type { DeployOptions, DeployOutcome, DeployProgress, Release } from '../driver.ts';
import { planRollback, planRollingDeploy } from '../../domain/rolling-plan.ts';
import { lbStateOf } from './haproxy.ts';
import { freePort } from '../../runner/free-port.ts';
import { sameDispatcherRelease, type EnvRuntime, type PreparedVcl } from './runtime.ts';
import type { AppRelease, DispatcherRelease } from './state.ts';

/** What one pair is brought to; `app` absent = leave the publish node as it is (webTier). */
interface PairTarget {
  app?: { release: AppRelease | undefined };
  dispatcher: DispatcherRelease | undefined;
  /** Reload the VCL even when nothing changed (after a crash the active VCL is unknown). */
  forceVcl?: boolean;
}

class Aborted extends Error {}

export class RollingDeploy {
  /** Pair index → its new VCL, compiled ahead (forward deploy only). */
  private readonly prepared = new Map<number, { port: Promise<number>; vcl: Promise<PreparedVcl> }>();
  private readonly stopping: Promise<void>[] = [];

  constructor(private readonly rt: EnvRuntime, private readonly options: DeployOptions) {}

  private report(node: string, action: string, status: DeployProgress['status'], message?: string): void {
    const progress: DeployProgress = { node, action, status, at: new Date().toISOString(), ...(message ? { message } : {}) };
    this.options.onProgress(progress);
    this.options.log(`${node}: ${action} ${status}${message ? ` (${message})` : ''}`);
  }

  private async step<T>(node: string, action: string, work: () => Promise<T>, message?: string): Promise<T> {
    if (this.options.signal.aborted) throw new Aborted('deploy aborted');
    this.report(node, action, 'RUNNING', message);
    try {
      const result = await work();
      this.report(node, action, 'FINISHED', typeof result === 'string' ? result : message);
      return result;
    } catch (err) {
      this.report(node, action, 'FAILED', err instanceof Error ? err.message : String(err));
      throw err;
    }
  }

  async run(release: Release): Promise<DeployOutcome> {
    const rt = this.rt;
    const dispatcherOnly = this.options.dispatcherOnly === true;
    const app: AppRelease = { version: release.version, appImage: release.appImage, variables: release.variables };
    const authorApp: AppRelease = { ...app, variables: release.authorVariables ?? release.variables };
    const dispatcher: DispatcherRelease = { version: release.version, ...(release.dispatcherImage ? { dispatcherImage: release.dispatcherImage } : {}) };
    await rt.reconcile();
    await this.resumeDetachedPairs();

    const pairCount = rt.state.publish.length;
    const pairOnTarget = rt.state.publish.map((p, i) =>
      (dispatcherOnly || (rt.appOnTarget(p, app) && rt.dispatcher(i).backendPort === p.port))
      && sameDispatcherRelease(rt.dispatcher(i).release, dispatcher));
    const plan = planRollingDeploy({
      pairCount, pairOnTarget, authorOnTarget: rt.appOnTarget(rt.state.author, authorApp),
      batchSize: this.options.batchSize, dispatcherOnly,
    });
    const previousAuthor = rt.state.author.release;
    const previous = rt.state.publish.map((p, i) => ({ app: p.release, dispatcher: rt.dispatcher(i).release }));
    const changed: number[] = [];
    let authorChanged = false;
    try {
      if (plan.deployAuthor) {
        authorChanged = true;
        await this.step('author', 'deploy', () => rt.switchApp(rt.state.author, authorApp, {
          onStarted: (ms) => this.report('author', 'start', 'FINISHED', `healthy after ${ms} ms`),
          deferStop: (p) => this.stopping.push(p),
        }), release.version);
      }
      this.prepareAhead(plan.batches.flat(), dispatcher, dispatcherOnly);
      for (const batch of plan.batches) {
        changed.push(...batch);
        await this.bringBatch(batch, () => ({ ...(dispatcherOnly ? {} : { app: { release: app } }), dispatcher }));
      }
      await this.settle();
      return { outcome: 'deployed' };
    } catch (err) {
      await this.settle();
      const reason = err instanceof Error ? err.message : String(err);
      // Anything that goes wrong mid-roll (a failed check, a Varnish or HAProxy error) is
      // answered with a rollback; only an abort (cancel, lease lost) stops where it is.
      if (err instanceof Aborted) return { outcome: 'failed', reason };
      const rollback = planRollback({ changedPairs: changed, authorChanged, batchSize: plan.batchSize, pairCount });
      try {
        await this.options.onRollback?.(reason);
        for (const batch of rollback.batches) {
          await this.bringBatch(batch, (i) => ({
            ...(dispatcherOnly ? {} : { app: { release: previous[i]?.app } }),
            dispatcher: previous[i]?.dispatcher,
          }), 'rollback');
        }
        if (rollback.rollbackAuthor) {
          await this.step('author', 'rollback', () => rt.switchApp(rt.state.author, previousAuthor),
            previousAuthor?.version ?? 'nothing');
        }
      } catch (rollbackErr) {
        return { outcome: 'failed', reason: `${reason}; rollback failed: ${String(rollbackErr)}` };
      }
      await this.settle();
      return { outcome: 'rolledBack', reason };
    }
  }

  /**
   * Compiles each pair's new VCL in the background, on the port its new publish
   * process will get, so the switch itself is a `vcl.use` and the compile overlaps node starts.
   * A failed preparation just means the pair compiles in line.
   */
  private prepareAhead(pairs: readonly number[], dispatcher: DispatcherRelease, dispatcherOnly: boolean): void {
    // All compiles start at once: cc is the long pole, and in parallel they finish sooner
    // (measured: 1.6 s instead of 3.0 s for 3 pairs under load).
    for (const i of pairs) {
      const port = dispatcherOnly ? Promise.resolve(this.rt.publish(i).port) : freePort();
      const vcl = port.then((p) => this.rt.prepareVcl(i, dispatcher, p));
      vcl.catch(() => undefined);
      port.catch(() => undefined);
      this.prepared.set(i, { port, vcl });
    }
  }

  private async takePrepared(i: number, backendPort: number): Promise<PreparedVcl | undefined> {
    const entry = this.prepared.get(i);
    this.prepared.delete(i);
    const vcl = await entry?.vcl.catch(() => undefined);
    if (vcl && vcl.backendPort === backendPort) return vcl;
    if (vcl) await this.rt.varnish(i).adm('vcl.discard', vcl.name).catch(() => undefined);
    return undefined;
  }

  /** Old processes stop in the background; the deploy is over when they have. */
  private async settle(): Promise<void> {
    const pending = this.stopping.splice(0);
    await Promise.allSettled(pending);
    for (const i of [...this.prepared.keys()]) await this.takePrepared(i, -1); // discards unused ones
  }

  /** A crash mid-pair leaves that pair drained: bring it back, as it is, before planning. */
  private async resumeDetachedPairs(): Promise<void> {
    const servers = await this.rt.lb.servers();
    const detached = this.rt.state.dispatchers
      .map((d, i) => ({ i, status: servers.find((s) => s.server === d.server)?.status ?? '' }))
      .filter((x) => lbStateOf(x.status) !== 'READY')
      .map((x) => x.i);
    for (const i of detached) {
      await this.bringBatch([i], () => ({ dispatcher: this.rt.dispatcher(i).release, forceVcl: true }), 'resume');
    }
  }

  private async bringBatch(batch: readonly number[], targetOf: (i: number) => PairTarget, mode = 'deploy'): Promise<void> {
    const rt = this.rt;
    for (const i of batch) await this.step(rt.dispatcher(i).name, 'drain', () => rt.drain(i));
    await this.step(batch.map((i) => rt.dispatcher(i).name).join(','), 'drainWait', async () => {
      const { waitedMs, timedOut } = await rt.waitDrained(batch, this.options.maxDrainMs);
      return timedOut ? `still busy after ${waitedMs} ms, going on` : `in-flight 0 after ${waitedMs} ms`;
    });
    // Every pair of the batch finishes (or fails) before the batch's outcome is decided, so a
    // rollback never races a pair that is still being changed.
    const results = await Promise.allSettled(batch.map((i) => this.bringPair(i, targetOf(i), mode)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    for (const i of batch) await this.step(rt.dispatcher(i).name, 'attach', () => rt.attach(i));
  }

  /** The port the prepared VCL of pair i points at (the new publish process must use it). */
  private async peekPort(i: number): Promise<number | undefined> {
    return this.prepared.get(i)?.port.catch(() => undefined);
  }

  private async bringPair(i: number, target: PairTarget, mode: string): Promise<void> {
    const rt = this.rt;
    const pub = rt.publish(i);
    const d = rt.dispatcher(i);
    const changeApp = target.app !== undefined && !(target.app.release
      ? rt.appOnTarget(pub, target.app.release)
      : pub.release === undefined);
    const prepared = mode === 'deploy' ? await this.peekPort(i) : undefined;
    if (changeApp && target.app) {
      const appRelease = target.app.release;
      await this.step(pub.name, mode, () => rt.switchApp(pub, appRelease, {
        ...(prepared !== undefined ? { port: prepared } : {}),
        switchTo: (port) => this.step(d.name, mode, async () => {
          const vcl = mode === 'deploy' ? await this.takePrepared(i, port) : undefined;
          if (vcl) await rt.useVcl(i, vcl); else await rt.loadVcl(i, target.dispatcher, port);
        }, target.dispatcher?.version),
        onStarted: (ms) => this.report(pub.name, 'start', 'FINISHED', `healthy after ${ms} ms`),
        deferStop: (p) => this.stopping.push(p),
      }), appRelease?.version ?? 'nothing');
    } else if (target.forceVcl === true || d.backendPort !== pub.port || !sameDispatcherRelease(d.release, target.dispatcher)) {
      await this.step(d.name, mode, async () => {
        const vcl = mode === 'deploy' ? await this.takePrepared(i, pub.port) : undefined;
        if (vcl) await rt.useVcl(i, vcl); else await rt.loadVcl(i, target.dispatcher, pub.port);
      }, target.dispatcher?.version);
    }
    await this.step(d.name, 'flush', () => rt.flush(i));
    if (!pub.release) return; // nothing to warm or check: the pair serves nothing yet
    await this.step(d.name, 'warm', async () => `warmed ${(await rt.warm(i)).join(' ') || 'nothing'}`);
    await this.step(d.name, 'health', () => rt.healthThrough(i));
  }
}
