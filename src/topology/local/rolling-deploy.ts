// The rolling deployment, executed: author first, then each batch of publish/dispatcher pairs
// drained → deployed → flushed → warmed → health-checked → put back; on failure every pair
// already touched goes back to what it ran before, with the same care. Ordering comes from
// domain/rolling-plan.ts; the operations from runtime.ts.
import type { DeployOptions, DeployOutcome, DeployProgress, Release } from '../driver.ts';
import { planRollback, planRollingDeploy } from '../../domain/rolling-plan.ts';
import { lbStateOf } from './haproxy.ts';
import { DeployFailure, sameDispatcherRelease, type EnvRuntime } from './runtime.ts';
import { authorVariablesOf } from './service-release.ts';
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
    const authorApp: AppRelease = { ...app, variables: authorVariablesOf(release) };
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
        await this.step('author', 'deploy', () => rt.switchApp(rt.state.author, authorApp, async () => undefined,
          (ms) => this.report('author', 'start', 'FINISHED', `healthy after ${ms} ms`)), release.version);
      }
      for (const batch of plan.batches) {
        changed.push(...batch);
        await this.bringBatch(batch, () => ({ ...(dispatcherOnly ? {} : { app: { release: app } }), dispatcher }));
      }
      return { outcome: 'deployed' };
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      if (err instanceof Aborted || !(err instanceof DeployFailure)) return { outcome: 'failed', reason };
      const rollback = planRollback({ changedPairs: changed, authorChanged, batchSize: plan.batchSize, pairCount });
      try {
        for (const batch of rollback.batches) {
          await this.bringBatch(batch, (i) => ({
            ...(dispatcherOnly ? {} : { app: { release: previous[i]?.app } }),
            dispatcher: previous[i]?.dispatcher,
          }), 'rollback');
        }
        if (rollback.rollbackAuthor) {
          await this.step('author', 'rollback', () => rt.switchApp(rt.state.author, previousAuthor, async () => undefined),
            previousAuthor?.version ?? 'nothing');
        }
      } catch (rollbackErr) {
        return { outcome: 'failed', reason: `${reason}; rollback failed: ${String(rollbackErr)}` };
      }
      return { outcome: 'rolledBack', reason };
    }
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

  private async bringPair(i: number, target: PairTarget, mode: string): Promise<void> {
    const rt = this.rt;
    const pub = rt.publish(i);
    const d = rt.dispatcher(i);
    const changeApp = target.app !== undefined && !(target.app.release
      ? rt.appOnTarget(pub, target.app.release)
      : pub.release === undefined);
    if (changeApp && target.app) {
      const appRelease = target.app.release;
      await this.step(pub.name, mode, () => rt.switchApp(pub, appRelease,
        (port) => this.step(d.name, mode, () => rt.loadVcl(i, target.dispatcher, port), target.dispatcher?.version),
        (ms) => this.report(pub.name, 'start', 'FINISHED', `healthy after ${ms} ms`)),
      appRelease?.version ?? 'nothing');
    } else if (target.forceVcl === true || d.backendPort !== pub.port || !sameDispatcherRelease(d.release, target.dispatcher)) {
      await this.step(d.name, mode, () => rt.loadVcl(i, target.dispatcher, pub.port), target.dispatcher?.version);
    }
    await this.step(d.name, 'flush', () => rt.flush(i));
    if (!pub.release) return; // nothing to warm or check: the pair serves nothing yet
    await this.step(d.name, 'warm', async () => `warmed ${(await rt.warm(i)).join(' ') || 'nothing'}`);
    await this.step(d.name, 'health', () => rt.healthThrough(i));
  }
}
