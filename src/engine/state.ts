// The only writer of execution state. Each function runs inside the caller's transaction,
// applies a domain transition to a step and carries its consequence to the execution: queue
// the next step, or end the execution.
import type { Kysely } from 'kysely';
import { claimDecision } from '../domain/claim-decision.ts';
import type { Execution, ExecutionStatus, Metric, StepState, StepStatus } from '../domain/model.ts';
import {
  executionEventAfterStep, executionTransition, isExecutionTerminal, isStepTerminal, stepTransition,
  type StepEvent,
} from '../domain/transitions.ts';
import type { PendingEvent } from '../events/bus.ts';
import type { Dialect } from '../store/dialect.ts';
import {
  getExecution, leasedStep, updateExecution, updateStep, type ExecutionPatch, type StepPatch,
} from '../store/executions.ts';
import type { Database } from '../store/schema.ts';

export class TransitionRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransitionRefused';
  }
}

export interface StepChange {
  reason?: string;
  metrics?: Metric[];
  details?: Record<string, unknown>;
  /** WAITING: when the wait ends (timeout or scheduled time). */
  wakeAt?: number;
}

/** What one change announces once its transaction commits (collected in runtime.ts Announcements). */
export interface Announcement {
  events: PendingEvent[];
  /** Something became runnable or due: wake the engines. */
  wake: boolean;
  /** The next step, already claimed for the hand-off worker (see HandOff). */
  handedOff?: StepState;
}

const stepEventType = (status: StepStatus): 'step.started' | 'step.waiting' | 'step.ended' | 'step.updated' =>
  status === 'WAITING' ? 'step.waiting' : isStepTerminal(status) ? 'step.ended' : status === 'RUNNING' ? 'step.started' : 'step.updated';

/** A worker that will run the next step itself (hot hand-off), with its lease. */
export interface HandOff {
  worker: string;
  leaseUntil: number;
}

/**
 * The writes one transition makes, in order, decided from the state read: applied at once by
 * applyStepEvent, or all at once, guarded by that state being unchanged (as-held.ts).
 */
export interface StepWrites {
  steps: { id: string; patch: StepPatch }[];
  execution?: { id: string; patch: ExecutionPatch };
}

export interface PlannedChange {
  announcement: Announcement;
  writes: StepWrites;
}

export async function applyStepEvent(
  trx: Kysely<Database>, step: StepState, event: StepEvent, change: StepChange, now: number,
  /** The step's execution as read in this transaction, when the caller has it already. */
  loaded?: Execution,
  handOff?: HandOff,
): Promise<Announcement> {
  const t = stepTransition(step.status, event);
  if (!t.ok) throw new TransitionRefused(t.message);
  const execution = loaded ?? await getExecution(trx, step.executionId);
  if (!execution) throw new TransitionRefused(`execution ${step.executionId} is gone`);
  const { announcement, writes } = planStepEvent(step, event, change, now, execution, handOff);
  for (const w of writes.steps) await updateStep(trx, w.id, w.patch);
  if (writes.execution) await updateExecution(trx, writes.execution.id, writes.execution.patch);
  return announcement;
}

/**
 * A domain transition of `step` and its consequence for `execution` (queue or hand off the
 * next step, or end the execution), as writes: pure, from the state given.
 */
export function planStepEvent(
  step: StepState, event: StepEvent, change: StepChange, now: number, execution: Execution, handOff?: HandOff,
): PlannedChange {
  const t = stepTransition(step.status, event);
  if (!t.ok) throw new TransitionRefused(t.message);
  const to = t.to;
  const patch: StepPatch = { status: to, updated_at: now };
  if (change.reason !== undefined) patch.reason = change.reason;
  // Why a step waited stops being true once it goes on.
  else if (step.status === 'WAITING' && to !== 'WAITING') patch.reason = null;
  if (change.metrics) patch.metrics = JSON.stringify(change.metrics);
  if (change.details) patch.details = JSON.stringify({ ...step.details, ...change.details });
  if (to === 'RUNNING' && !step.startedAt) patch.started_at = now;
  if (event === 'resume') {
    // Runs again from the start with a fresh lease: queued, not leased.
    Object.assign(patch, { queued_at: now, lease_owner: null, lease_expires_at: null, wake_at: null });
  }
  if (to === 'WAITING') {
    Object.assign(patch, { queued_at: null, lease_owner: null, lease_expires_at: null, wake_at: change.wakeAt ?? null });
    if (!step.startedAt) patch.started_at = now;
  }
  if (isStepTerminal(to)) {
    Object.assign(patch, { queued_at: null, lease_owner: null, lease_expires_at: null, wake_at: null, finished_at: now });
  }
  const writes: StepWrites = { steps: [{ id: step.id, patch }] };

  const base = { programId: execution.programId, pipelineId: execution.pipelineId, executionId: execution.id };
  const announcement: Announcement = {
    events: [{ type: stepEventType(to), ...base, stepId: step.id, action: step.action, status: to }],
    wake: to === 'WAITING' || event === 'resume',
  };
  const planned = { announcement, writes };
  if (!isStepTerminal(to)) return planned;

  const isLast = step.index === execution.steps.length - 1;
  let execEvent = executionEventAfterStep(to, isLast);
  const cancelling = execution.status === 'CANCELLING';
  // A cancel asked for while this step ran ends the execution once the step has stopped.
  if (!execEvent && cancelling) execEvent = 'cancelled';
  if (execEvent) {
    const status = endedStatus(execution.status, execEvent === 'cancelled' && !cancelling ? 'requestCancel' : execEvent);
    if (status) {
      writes.execution = { id: execution.id, patch: { status, updated_at: now, finished_at: now, busy_pipeline_id: null } };
      announcement.events.push({ type: 'execution.ended', ...base, status });
    }
    return planned;
  }
  const next = execution.steps[step.index + 1];
  if (!next) return planned;
  // The hand-off worker runs the next step only when a claim would: not a pause before production.
  const decision = claimDecision({
    execution: execution.status, step: next.status, action: next.action, interrupted: false, idempotent: true,
    pauseBeforeRun: next.pauseBeforeRun, resumed: Boolean(next.details.resumed),
  });
  const claim = stepTransition(next.status, 'claim');
  if (handOff && claim.ok && decision.run && next.status === 'NOT_STARTED' && execution.status === 'RUNNING') {
    // Queued and claimed in one write: the worker that finished this step runs the next one.
    const attempts = next.attempts + 1;
    writes.steps.push({ id: next.id, patch: {
      queued_at: now, updated_at: now, status: claim.to, started_at: now,
      lease_owner: handOff.worker, lease_expires_at: handOff.leaseUntil, attempts,
    } });
    announcement.events.push({ type: 'step.started', ...base, stepId: next.id, action: next.action, status: claim.to });
    announcement.handedOff = { ...next, status: claim.to, startedAt: new Date(now), leaseOwner: handOff.worker, attempts };
    return planned;
  }
  writes.steps.push({ id: next.id, patch: { queued_at: now, updated_at: now } });
  announcement.wake = true;
  return planned;
}

/** The execution's status after `event` (two transitions for a cancel), if that ends it. */
function endedStatus(from: ExecutionStatus, event: Parameters<typeof executionTransition>[1]): ExecutionStatus | undefined {
  let status = from;
  for (const e of event === 'requestCancel' ? (['requestCancel', 'cancelled'] as const) : [event]) {
    const t = executionTransition(status, e);
    if (!t.ok) throw new TransitionRefused(t.message);
    status = t.to;
  }
  return isExecutionTerminal(status) ? status : undefined;
}

/** Cancel: RUNNING → CANCELLING, and straight to CANCELLED when no step is running. */
export async function requestCancel(
  trx: Kysely<Database>, executionId: string, now: number, details: Record<string, unknown>,
): Promise<Announcement & { runningStepId?: string }> {
  const execution = await getExecution(trx, executionId);
  if (!execution) throw new TransitionRefused(`execution ${executionId} not found`);
  if (execution.status === 'CANCELLING') return { events: [], wake: false };
  const t = executionTransition(execution.status, 'requestCancel');
  if (!t.ok) throw new TransitionRefused(t.message);
  await updateExecution(trx, executionId, { status: t.to, updated_at: now });
  // Steps before the first unfinished one are done; that one is the step to stop.
  const current = execution.steps.find((s) => !isStepTerminal(s.status));
  if (!current) return { events: [], wake: false };
  if ((current.status === 'RUNNING' || current.status === 'ROLLING_BACK') && current.leaseOwner) {
    // It stops when its worker sees the cancel (pushed to it), and then ends as CANCELLED.
    await updateStep(trx, current.id, { details: JSON.stringify({ ...current.details, ...details }), updated_at: now });
    return { events: [], wake: false, runningStepId: current.id };
  }
  return applyStepEvent(trx, current, 'cancel', { details }, now);
}

/** Sets the execution's artifacts version (Cloud Manager's `2019.523.134947.0000006554` shape). */
export async function setArtifactsVersion(trx: Kysely<Database>, executionId: string, version: string): Promise<void> {
  await updateExecution(trx, executionId, { artifacts_version: version });
}

/** Who writes on a running step's behalf: the worker holding its lease, and where it belongs. */
export interface StepWriter {
  worker: string;
  programId: string;
  pipelineId: string;
  executionId: string;
  stepId: string;
}

/** The running (or rolling back) step `writer` still holds; refused once another worker took it over. */
async function heldStep(trx: Kysely<Database>, dialect: Dialect, writer: StepWriter): Promise<StepState> {
  const step = await leasedStep(trx, dialect, writer.stepId, writer.worker);
  if (!step || (step.status !== 'RUNNING' && step.status !== 'ROLLING_BACK')) {
    throw new TransitionRefused(`step ${writer.stepId} is no longer held by worker ${writer.worker}`);
  }
  return step;
}

/** Merges live progress into a running step's details; announced with the step's own status. */
export async function mergeStepDetails(
  trx: Kysely<Database>, dialect: Dialect, writer: StepWriter, patch: Record<string, unknown>, now: number,
): Promise<Announcement> {
  const step = await heldStep(trx, dialect, writer);
  await updateStep(trx, step.id, { details: JSON.stringify({ ...step.details, ...patch }), updated_at: now });
  const { programId, pipelineId, executionId } = writer;
  return {
    events: [{ type: 'step.updated', programId, pipelineId, executionId, stepId: step.id, action: step.action, status: step.status }],
    wake: false,
  };
}

/** A deploy starts putting the previous release back: RUNNING → ROLLING_BACK (once). */
export async function startRollBack(
  trx: Kysely<Database>, dialect: Dialect, writer: StepWriter, reason: string, now: number,
): Promise<Announcement> {
  const step = await heldStep(trx, dialect, writer);
  if (step.status === 'ROLLING_BACK') return { events: [], wake: false };
  return applyStepEvent(trx, step, 'rollBack', { reason: `rolling back: ${reason}` }, now);
}
