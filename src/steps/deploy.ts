// The deploy step: finds the execution's app and dispatcher images, makes the release (version
// = artifactsVersion) and hands it to the topology driver's rolling deployment, writing each
// deploy command into the step details as it happens (deploy-details.ts: Cloud Manager's shape
// plus Slipway's `rollout`). webTier pipelines deploy the dispatcher package only. Every run
// cycles every pair; idempotent all the same: an attempt cut off by a crash resumes after what
// the step's own record (`rollout.done`) says it completed.
import type { Environment } from '../domain/model.ts';
import type { EnvironmentUrl, Release, TopologyDriver } from '../topology/driver.ts';
import { DeployRecord, environmentUrls, priorRollout } from './deploy-details.ts';
import type { ExecutionArtifact, StepContext, StepHandler, StepResult } from './handler.ts';
import { ARTIFACT_TYPES } from '../artifacts/artifact-types.ts';

const { APP_IMAGE, DISPATCHER_IMAGE } = ARTIFACT_TYPES;
/** Longest wait for a drained dispatcher's in-flight requests. */
export const MAX_DRAIN_MS = 30_000;

function latest(artifacts: ExecutionArtifact[], type: string): ExecutionArtifact | undefined {
  return [...artifacts].reverse().find((a) => a.type === type);
}

/** The environment's URLs, or undefined when its topology cannot be described right now. */
async function urlsOf(driver: TopologyDriver, env: Environment): Promise<EnvironmentUrl[] | undefined> {
  return driver.describe(env).then(environmentUrls, () => undefined);
}

/** Coalesces detail updates: at most one write in flight, the last state always written. */
function detailsWriter(ctx: StepContext, snapshot: () => Record<string, unknown>) {
  let running: Promise<void> | undefined;
  let again = false;
  const write = (): void => {
    if (running) { again = true; return; }
    running = ctx.updateDetails(snapshot()).catch(() => undefined).then(() => {
      running = undefined;
      if (again) { again = false; write(); }
    });
  };
  return {
    write,
    /** Waits for the write in flight, then writes the final state. */
    async flush(): Promise<void> {
      while (running) await running;
      await ctx.updateDetails(snapshot());
    },
  };
}

export const deployHandler: StepHandler = {
  action: 'deploy',
  idempotent: true,
  async run(ctx: StepContext): Promise<StepResult> {
    const env = ctx.environment;
    if (!env) return { outcome: 'failed', reason: 'the deploy step has no environment' };
    const dispatcherOnly = ctx.pipeline.type === 'webTier';
    const artifacts = await ctx.executionArtifacts();
    const app = latest(artifacts, APP_IMAGE);
    const dispatcher = latest(artifacts, DISPATCHER_IMAGE);
    if (!dispatcherOnly && !app) return { outcome: 'failed', reason: `no ${APP_IMAGE} artifact in this execution` };
    if (dispatcherOnly && !dispatcher) return { outcome: 'failed', reason: `no ${DISPATCHER_IMAGE} artifact in this execution` };

    const vars = ctx.environmentVariables ?? { author: {}, publish: {} };
    const release: Release = {
      version: ctx.execution.artifactsVersion ?? ctx.execution.id,
      appImage: app?.digest ?? '',
      ...(dispatcher ? { dispatcherImage: dispatcher.digest } : {}),
      variables: vars.publish,
      authorVariables: vars.author,
    };
    const summary = { environmentId: env.id, version: release.version, appImage: release.appImage,
      ...(release.dispatcherImage ? { dispatcherImage: release.dispatcherImage } : {}), dispatcherOnly };
    const prior = priorRollout(ctx.step.details, summary);
    const record = new DeployRecord(summary, prior);
    const details = detailsWriter(ctx, () => record.details());
    record.environment(await urlsOf(ctx.driver, env));
    ctx.log.line(`Deploying ${release.version} to ${env.name} (${env.id})${dispatcherOnly ? ', dispatcher package only' : ''}`);
    if (prior) {
      const { author, pairs } = prior.done;
      ctx.log.line(`Resuming: this step already completed ${[...(author ? ['author'] : []), ...pairs.map((i) => `pair ${i + 1}`)].join(', ') || 'nothing'}`);
    }

    let outcome;
    try {
      outcome = await ctx.driver.deploy(env, release, {
        batchSize: ctx.pipeline.options.batchSize,
        maxDrainMs: MAX_DRAIN_MS,
        dispatcherOnly,
        signal: ctx.signal,
        ...(prior ? { done: prior.done } : {}),
        log: (line) => ctx.log.line(line),
        onPlan: (commands) => { record.plan(commands); details.write(); },
        onProgress: (p) => { record.progress(p); details.write(); },
        onDone: (done) => { record.done(done); details.write(); },
        onRollback: (reason) => {
          // The forward progress is void once a rollback starts: an attempt that resumes a
          // rollback cut off by a crash must not skip pairs that may be on either release.
          record.done({ author: false, pairs: [] });
          details.write();
          return ctx.rollingBack(reason);
        },
      });
    } catch (err) {
      outcome = { outcome: 'failed' as const, reason: err instanceof Error ? err.message : String(err) };
    }
    record.environment(await urlsOf(ctx.driver, env)); // author's URL changes with its process
    await details.flush();
    const final = record.details();
    ctx.log.line(`Deploy ${outcome.outcome}${'reason' in outcome ? `: ${outcome.reason}` : ''}`);
    if (outcome.outcome === 'deployed') return { outcome: 'finished', details: final };
    if (outcome.outcome === 'rolledBack') return { outcome: 'rolledBack', reason: outcome.reason, details: final };
    return { outcome: 'failed', reason: outcome.reason, details: final };
  },
};
