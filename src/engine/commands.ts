// The commands people and triggers give: start, advance, cancel, re-execute, redeploy, roll back. Each is one
// transaction through the domain rules; the API, the CLI and the UI all come through here.
import { decideAdvance, decideCancel } from '../domain/advance.ts';
import { layoutFor, reExecuteLayout } from '../domain/layout.ts';
import type { Execution, ExecutionMode, Pipeline, Trigger } from '../domain/model.ts';
import { redeployEligibility, reExecuteEligibility, rollbackSource } from '../domain/re-execute.ts';
import { copyArtifactReferences } from '../store/artifacts.ts';
import {
  getExecution, getStep, insertExecution, lastExecutionId, liveReleases, PipelineBusyError,
} from '../store/executions.ts';
import { getPipeline } from '../store/pipelines.ts';
import { transact, type Runtime } from './runtime.ts';
import { computeArtifactsVersion } from '../domain/artifacts-version.ts';
import { applyStepEvent, requestCancel, setArtifactsVersion, TransitionRefused } from './state.ts';

export { PipelineBusyError, TransitionRefused };

/** A command refused for a reason the caller can show (mapped to 4xx by the API). */
export class CommandRefused extends Error {
  /** BUSY: refused while an execution runs (Cloud Manager answers 412). */
  constructor(readonly code: 'NOT_FOUND' | 'BAD_INPUT' | 'CONFLICT' | 'BUSY', message: string) {
    super(message);
    this.name = 'CommandRefused';
  }
}

export interface StartOptions {
  trigger?: Trigger;
  mode?: ExecutionMode;
  user: string;
}

export async function startExecution(rt: Runtime, pipeline: Pipeline, opts: StartOptions): Promise<Execution> {
  const trigger = opts.trigger ?? 'MANUAL';
  const mode = opts.mode ?? 'NORMAL';
  return create(rt, pipeline, trigger, mode, opts.user, layoutFor(pipeline, trigger, mode));
}

async function create(
  rt: Runtime, pipeline: Pipeline, trigger: Trigger, mode: ExecutionMode, user: string,
  steps: ReturnType<typeof layoutFor>, source?: Execution,
): Promise<Execution> {
  return transact(rt, async (trx, changes) => {
    const now = rt.clock.now();
    const execution = await insertExecution(trx, {
      programId: pipeline.programId, pipelineId: pipeline.id, pipelineType: pipeline.type, trigger, mode, user,
      steps, environmentIds: pipeline.environments, ...(source ? { sourceExecutionId: source.id } : {}),
    }, now);
    const version = source?.artifactsVersion ?? computeArtifactsVersion(new Date(now), execution.id);
    await setArtifactsVersion(trx, execution.id, version);
    if (source) {
      // The re-execution's build step holds the source's artifacts by reference: no bytes copied.
      const build = execution.steps.find((s) => s.action === 'build');
      if (build) await copyArtifactReferences(trx, source.id, execution.id, build.id);
    }
    const base = { programId: pipeline.programId, pipelineId: pipeline.id, executionId: execution.id };
    changes.add({ events: [{ type: 'execution.started', ...base }], wake: true });
    return { ...execution, artifactsVersion: version };
  });
}

/**
 * Re-executes the production deployment of step `stepId`'s execution from the same artifacts;
 * `sourceExecutionId`, when a client sends it too, must name that execution.
 */
export async function reExecute(rt: Runtime, pipelineId: string, stepId: string, user: string, sourceExecutionId?: string): Promise<Execution> {
  const step = await getStep(rt.db.kysely, stepId);
  if (!step) throw new CommandRefused('NOT_FOUND', `step ${stepId} not found`);
  if (sourceExecutionId !== undefined && sourceExecutionId !== step.executionId) {
    throw new CommandRefused('BAD_INPUT', `step ${stepId} is not a step of execution ${sourceExecutionId}`);
  }
  const execution = await getExecution(rt.db.kysely, step.executionId, pipelineId);
  if (!execution) throw new CommandRefused('NOT_FOUND', `step ${stepId} is not in pipeline ${pipelineId}`);
  const pipeline = await getPipeline(rt.db.kysely, pipelineId);
  if (!pipeline) throw new CommandRefused('NOT_FOUND', `pipeline ${pipelineId} not found`);
  const decision = reExecuteEligibility(execution, await lastExecutionId(rt.db.kysely, pipelineId), stepId);
  if (!decision.ok) throw new CommandRefused('CONFLICT', decision.message);
  return deployAgain(rt, pipeline, execution, decision.sourceExecutionId, user);
}

/**
 * Redeploys the release of an earlier execution (a rollback): the same execution a re-execution
 * is (trigger RE_EXECUTE, the original build's artifacts, the same rolling production deploy).
 */
export async function redeploy(rt: Runtime, pipelineId: string, executionId: string, user: string): Promise<Execution> {
  const execution = await getExecution(rt.db.kysely, executionId, pipelineId);
  if (!execution) throw new CommandRefused('NOT_FOUND', `execution ${executionId} of pipeline ${pipelineId} not found`);
  const pipeline = await getPipeline(rt.db.kysely, pipelineId);
  if (!pipeline) throw new CommandRefused('NOT_FOUND', `pipeline ${pipelineId} not found`);
  const decision = redeployEligibility(execution, await lastExecutionId(rt.db.kysely, pipelineId));
  if (!decision.ok) throw new CommandRefused('CONFLICT', `execution ${executionId} cannot be redeployed (${decision.message})`);
  return deployAgain(rt, pipeline, execution, decision.sourceExecutionId, user);
}

/**
 * Rolls the pipeline's production back to the release live before its last one (Cloud Manager's
 * rollbackLastSuccessfulExecution): a redeploy of the execution that last deployed that release.
 */
export async function rollback(rt: Runtime, pipelineId: string, user: string): Promise<Execution> {
  const decision = rollbackSource(await liveReleases(rt.db.kysely, pipelineId));
  if (!decision.ok) throw new CommandRefused('CONFLICT', `nothing to roll back to: ${decision.message}`);
  return redeploy(rt, pipelineId, decision.sourceExecutionId, user);
}

/** A RE_EXECUTE execution deploying the artifacts of `sourceId` (`execution` itself or its source). */
async function deployAgain(rt: Runtime, pipeline: Pipeline, execution: Execution, sourceId: string, user: string): Promise<Execution> {
  const source = sourceId === execution.id ? execution : await getExecution(rt.db.kysely, sourceId);
  if (!source) throw new CommandRefused('CONFLICT', `source execution ${sourceId} is gone`);
  return create(rt, pipeline, 'RE_EXECUTE', 'NORMAL', user, reExecuteLayout(pipeline), source);
}

/** `PUT …/advance`: the body decides the step's event (override, approve, schedule, resume). */
export async function advanceStep(rt: Runtime, stepId: string, body: unknown, user: string): Promise<void> {
  await transact(rt, async (trx, changes) => {
    const step = await getStep(trx, stepId);
    if (!step) throw new CommandRefused('NOT_FOUND', `step ${stepId} not found`);
    const decision = decideAdvance(step, body);
    if (!decision.ok) throw new CommandRefused(decision.code === 'NOT_WAITING' ? 'CONFLICT' : 'BAD_INPUT', decision.message);
    const now = rt.clock.now();
    const details: Record<string, unknown> = { input: body, user, advancedAt: new Date(now).toISOString() };
    if (decision.event === 'wait' && decision.scheduledAt) {
      // A scheduled deployment waits until its time, however long that is.
      const at = decision.scheduledAt.getTime();
      if (at > now) {
        details.scheduledAt = decision.scheduledAt.toISOString();
        changes.add(await applyStepEvent(trx, step, 'wait', { details, wakeAt: at, reason: `scheduled for ${details.scheduledAt}` }, now));
        return;
      }
      changes.add(await applyStepEvent(trx, step, 'advance', { details }, now));
      return;
    }
    if (decision.event === 'resume') details.resumed = true;
    changes.add(await applyStepEvent(trx, step, decision.event, {
      details, ...(decision.metrics ? { metrics: decision.metrics } : {}),
      ...(decision.event === 'reject' ? { reason: `rejected by ${user}` } : {}),
    }, now));
  });
}

/** `PUT …/cancel`: rejects a waiting step, or cancels the execution the step belongs to. */
export async function cancelStep(rt: Runtime, stepId: string, body: unknown, user: string): Promise<void> {
  await transact(rt, async (trx, changes) => {
    const step = await getStep(trx, stepId);
    if (!step) throw new CommandRefused('NOT_FOUND', `step ${stepId} not found`);
    const decision = decideCancel(step, body);
    if (!decision.ok) throw new CommandRefused('CONFLICT', decision.message);
    const now = rt.clock.now();
    const details = { input: body, user, cancelledAt: new Date(now).toISOString() };
    if (decision.event === 'reject') {
      changes.add(await applyStepEvent(trx, step, 'reject', { details, reason: `rejected by ${user}` }, now));
      return;
    }
    const outcome = await requestCancel(trx, step.executionId, now, details);
    changes.add(outcome);
    if (outcome.runningStepId) changes.wake({ kind: 'cancel', executionId: step.executionId });
  });
}

/** Cancels a whole execution (the UI's and CLI's cancel). */
export async function cancelExecution(rt: Runtime, executionId: string, user: string): Promise<void> {
  await transact(rt, async (trx, changes) => {
    const now = rt.clock.now();
    const outcome = await requestCancel(trx, executionId, now, { input: { cancel: true }, user, cancelledAt: new Date(now).toISOString() });
    changes.add(outcome);
    if (outcome.runningStepId) changes.wake({ kind: 'cancel', executionId });
  });
}
