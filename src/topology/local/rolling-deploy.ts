// The rolling deployment, executed: author first, then each batch of publish/dispatcher pairs
// drained → deployed → flushed → warmed → health-checked → put back; every pair, every time,
// the release it already runs included (a new publish process, a wiped and warmed cache). On
// failure every pair already touched goes back to what it ran before, with the same care.
// Ordering comes from domain/rolling-plan.ts; the operations from runtime.ts; the commands as
// reported from deploy-steps.ts.
// A batch's new publish processes are started beside the running ones before the batch is
// drained (start-ahead.ts): a pair is drained only once its new process is healthy, so a
// release that fails to start fails before its pair leaves the load balancer. Each pair's
// slot and any VCL it needs are prepared ahead too (prepare-ahead.ts).
// The dispatcher of a pair is brought onto the release by pointing it at the new publish
// process and recording the release; varnishd itself is not restarted (its cache is flushed
// anyway, and a new VCL is compiled when the package or the app's health path changes): a
// restart would cost seconds per pair and buy nothing the flush does not.
import type { DeployDone, DeployOptions, DeployOutcome, Release } from '../driver.ts';
import { planRollback, planRollingDeploy } from '../../domain/rolling-plan.ts';
import { allSettledOrThrow } from './all-settled.ts';
import { Aborted, DeploySteps, expectedCommands } from './deploy-steps.ts';
import { lbStateOf } from './haproxy.ts';
import { PreparesAhead } from './prepare-ahead.ts';
import type { RoutingTarget } from './routing.ts';
import type { EnvRuntime } from './runtime.ts';
import type { SlotChoice } from './slots.ts';
import { StartsAhead } from './start-ahead.ts';
import type { AppRelease, DispatcherRelease } from './state.ts';

/** What one pair is brought to; `app` absent = leave the publish node as it is (webTier). */
interface PairTarget extends RoutingTarget {
  app?: { release: AppRelease | undefined };
}

export class RollingDeploy {
  private readonly steps: DeploySteps;
  /** Each pair's slot and, if needed, new VCL, prepared ahead (forward deploy only). */
  private readonly prepared: PreparesAhead;
  /** New publish processes started before their pair is drained (forward deploy only). */
  private readonly ahead: StartsAhead;
  private readonly stopping: Promise<void>[] = [];
  /** Old processes stop in the background (SwitchOptions.deferStop); settle waits for them. */
  private readonly deferStop = (stopping: Promise<void>): void => { this.stopping.push(stopping); };

  constructor(private readonly rt: EnvRuntime, private readonly options: DeployOptions) {
    this.steps = new DeploySteps(options);
    this.prepared = new PreparesAhead(rt.routing);
    this.ahead = new StartsAhead(rt, this.steps, (i) => this.slotFor(i, false, 'deploy'));
  }

  async run(release: Release): Promise<DeployOutcome> {
    const { rt, steps } = this;
    const dispatcherOnly = this.options.dispatcherOnly === true;
    const healthPath = dispatcherOnly ? undefined : await rt.releaseHealthPath(release.appImage);
    const app: AppRelease = { version: release.version, appImage: release.appImage, variables: release.variables,
      ...(healthPath ? { healthPath } : {}) };
    const authorApp: AppRelease = { ...app, variables: release.authorVariables ?? release.variables };
    const dispatcher: DispatcherRelease = { version: release.version, ...(release.dispatcherImage ? { dispatcherImage: release.dispatcherImage } : {}) };
    await rt.reconcile();
    await this.resumeDetachedPairs();

    const pairCount = rt.state.publish.length;
    const done: DeployDone = { author: this.options.done?.author === true, pairs: [...this.options.done?.pairs ?? []] };
    const plan = planRollingDeploy({
      pairCount, pairsDone: done.pairs, authorDone: done.author, batchSize: this.options.batchSize, dispatcherOnly,
    });
    this.options.onPlan?.(expectedCommands(plan, rt, dispatcherOnly));
    const previousAuthor = rt.state.author.release;
    const previous = rt.state.publish.map((p, i) => ({ app: p.release, dispatcher: rt.dispatcher(i).release, healthPath: rt.healthPathOf(p) }));
    const targetOf = (i: number): PairTarget => (dispatcherOnly
      ? { dispatcher, healthPath: rt.healthPathOf(rt.publish(i)) }
      : { app: { release: app }, dispatcher, healthPath: healthPath ?? rt.healthPathOf(rt.publish(i)) });
    const changed: number[] = [];
    let authorChanged = false;
    const pairApp = dispatcherOnly ? undefined : app;
    try {
      this.prepared.prepare(plan.batches.flat(), targetOf, dispatcherOnly);
      // Author first; the first batches start beside while author deploys, and no pair is
      // drained before author is done.
      authorChanged = plan.deployAuthor;
      const authorDeploy = plan.deployAuthor
        ? steps.step('author', 'deploy', () => rt.appNodes.switchRelease(rt.state.author, authorApp, {
          onStarted: (ms) => steps.reportStarted('author', ms),
          deferStop: this.deferStop,
        }), release.version)
        : undefined;
      authorDeploy?.catch(() => undefined); // awaited below, after the first batch's start is under way
      const up = this.ahead.schedule(plan.batches, pairApp);
      if (authorDeploy) {
        await authorDeploy;
        done.author = true;
        this.options.onDone?.({ author: true, pairs: [...done.pairs] });
      }
      for (const [k, batch] of plan.batches.entries()) {
        await up[k];
        changed.push(...batch);
        await this.bringBatch(batch, targetOf);
        this.ahead.brought(k);
        done.pairs.push(...batch);
        this.options.onDone?.({ author: done.author, pairs: [...done.pairs] });
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
            healthPath: previous[i]?.healthPath ?? rt.state.healthPath,
          }), 'rollback');
        }
        if (rollback.rollbackAuthor) {
          await steps.step('author', 'rollback', () => rt.appNodes.switchRelease(rt.state.author, previousAuthor),
            previousAuthor?.version ?? 'nothing');
        }
      } catch (rollbackErr) {
        return { outcome: 'failed', reason: `${reason}; rollback failed: ${String(rollbackErr)}` };
      }
      await this.settle();
      return { outcome: 'rolledBack', reason };
    }
  }

  /** The slot pair i switches to: in a forward deploy the one prepared ahead (prepare-ahead.ts), else chosen now. */
  private slotFor(i: number, keepApp: boolean, mode: string): Promise<SlotChoice> {
    return mode === 'deploy' ? this.prepared.slot(i, keepApp) : this.rt.routing.chooseSlot(i, keepApp);
  }

  /**
   * Old processes stop in the background; the deploy is over when they have. Processes started
   * ahead and never switched to (the roll failed or was cut off first) are stopped, VCLs
   * prepared and never used discarded.
   */
  private async settle(): Promise<void> {
    await this.ahead.discardAll();
    const pending = this.stopping.splice(0);
    await Promise.allSettled(pending);
    await this.prepared.discardAll();
  }

  /** A crash mid-pair leaves that pair drained: bring it back, as it is, before planning. */
  private async resumeDetachedPairs(): Promise<void> {
    const rt = this.rt;
    const servers = await rt.loadBalancer.admin.servers();
    const detached = rt.state.dispatchers
      .map((d, i) => ({ i, status: servers.find((s) => s.server === d.server)?.status ?? '' }))
      .filter((x) => lbStateOf(x.status) !== 'READY')
      .map((x) => x.i);
    for (const i of detached) {
      await this.bringBatch([i], () => ({ dispatcher: rt.dispatcher(i).release, healthPath: rt.healthPathOf(rt.publish(i)),
        forceRouting: true }), 'resume');
    }
  }

  /**
   * A load balancer or dispatcher killed mid-roll is restarted here, before the batch needs it,
   * and not only by the supervisor: a rollback after such a kill must not fail on the same dead
   * process (the supervisor's next look may be a backoff away).
   */
  private async ensureRunning(batch: readonly number[]): Promise<void> {
    if (await this.rt.loadBalancer.ensure()) this.steps.report('loadBalancer', 'restart', 'FINISHED');
    for (const i of batch) {
      if (await this.rt.dispatchers.ensure(i)) this.steps.report(this.rt.dispatcher(i).name, 'restart', 'FINISHED');
    }
  }

  private async bringBatch(batch: readonly number[], targetOf: (i: number) => PairTarget, mode = 'deploy'): Promise<void> {
    const { rt, steps } = this;
    await this.ensureRunning(batch);
    for (const i of batch) await steps.step(rt.dispatcher(i).name, 'drain', () => rt.loadBalancer.drain(i));
    await steps.step(batch.map((i) => rt.dispatcher(i).name).join(','), 'drainWait', async () => {
      const { waitedMs, timedOut } = await rt.loadBalancer.waitDrained(batch, this.options.maxDrainMs);
      return timedOut ? `still busy after ${waitedMs} ms, going on` : `in-flight 0 after ${waitedMs} ms`;
    });
    // Every pair of the batch finishes (or fails) before the batch's outcome is decided, so a
    // rollback never races a pair that is still being changed.
    await allSettledOrThrow(batch.map((i) => this.bringPair(i, targetOf(i), mode)));
    for (const i of batch) await steps.step(rt.dispatcher(i).name, 'attach', () => rt.loadBalancer.attach(i));
  }

  /** Points dispatcher i at `slot`, as the dispatcher's `mode` command: a prepared VCL, a VCL compiled now, or just the slot switch. */
  private async switchDispatcher(i: number, slot: SlotChoice, target: PairTarget, mode: string): Promise<void> {
    await this.steps.step(this.rt.dispatcher(i).name, mode, async () => this.rt.routing.switchTo(i, slot, target,
      mode === 'deploy' ? await this.prepared.take(i, slot, target.healthPath) : undefined), target.dispatcher?.version);
  }

  private async bringPair(i: number, target: PairTarget, mode: string): Promise<void> {
    const { rt, steps } = this;
    const pub = rt.publish(i);
    const d = rt.dispatcher(i);
    // A deployment (re)starts the publish node whatever it runs; a rollback changes only what
    // the failed roll changed.
    const changeApp = target.app !== undefined && (mode === 'deploy' || !(target.app.release
      ? rt.appNodes.runs(pub, target.app.release)
      : pub.release === undefined));
    const ahead = mode === 'deploy' ? this.ahead.take(i) : undefined;
    if (changeApp && ahead) {
      // Started and checked before the drain: in the drained window only the switch is left.
      const { started, slot } = await ahead;
      await steps.step(pub.name, mode, () => rt.appNodes.takeOver(started, {
        switchTo: () => this.switchDispatcher(i, slot, target, mode),
        deferStop: this.deferStop,
      }), started.release.version);
    } else if (changeApp && target.app) {
      const appRelease = target.app.release;
      const slot = appRelease ? await this.slotFor(i, false, mode) : undefined;
      await steps.step(pub.name, mode, () => rt.appNodes.switchRelease(pub, appRelease, {
        ...(slot ? { port: slot.port } : {}),
        // Called only when there is a new process, hence a slot.
        switchTo: async () => {
          if (slot) await this.switchDispatcher(i, slot, target, mode);
        },
        onStarted: (ms) => steps.reportStarted(pub.name, ms),
        deferStop: this.deferStop,
      }), appRelease?.version ?? 'nothing');
    } else if (mode === 'deploy' || target.forceRouting === true || d.backendPort !== pub.port
      || rt.routing.needsVcl(i, target.dispatcher, target.healthPath)) {
      await this.switchDispatcher(i, await this.slotFor(i, true, mode), target, mode);
    }
    await steps.step(d.name, 'flush', () => rt.warmUp.flush(i));
    if (!pub.release) return; // nothing to warm or check: the pair serves nothing yet
    await steps.step(d.name, 'warm', async () => `warmed ${(await rt.warmUp.warm(i)).join(' ') || 'nothing'}`);
    await steps.step(d.name, 'health', () => rt.warmUp.healthThrough(i));
  }
}
