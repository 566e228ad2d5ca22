// The claim pass, one step at a time: a runnable step claimed with a lease (claimStep), then
// decided by the domain's rules (claimDecision). A step that runs now becomes a Launch, its
// start written; any other decision is written as the step's transition, and nothing runs.
import type { Execution, StepState } from '../domain/model.ts';
import { claimDecision, waitDeadline, type ClaimDecision } from '../domain/claim-decision.ts';
import type { HandlerRegistry } from '../steps/handler.ts';
import { claimStep, getExecution } from '../store/executions.ts';
import { getPipeline } from '../store/pipelines.ts';
import { holdContextReads, type ContextDeps, type ContextReads } from './context.ts';
import { applyAsHeld } from './as-held.ts';
import { transact } from './runtime.ts';
import { applyStepEvent, type StepChange } from './state.ts';

export interface ClaimDeps extends ContextDeps {
  handlers: HandlerRegistry;
  workerId: string;
  /** How long a claim holds without renewal. */
  leaseMs: number;
  /** Steps one program may run at once (all engines together). */
  programQuota: number;
}

/** A claimed step to run, in its execution, with its context's reads when they were made already. */
export interface Launch {
  step: StepState;
  execution: Execution;
  reads?: Promise<ContextReads>;
}

/** A step claimed: the Launch to start once the claim has committed, if it runs now. */
export interface Claimed {
  launch?: Launch;
}

/** Claims one runnable step; undefined when there is none (or none this engine may take). */
export async function claimOne(deps: ClaimDeps): Promise<Claimed | undefined> {
  const { rt, workerId } = deps;
  const claim = await claimStep(rt.db, workerId, rt.clock.now(), deps.leaseMs, deps.programQuota);
  if (!claim) return undefined;
  const launch = await startAsHeld(deps, claim.step, claim.interrupted) ?? await transact(rt, async (trx, changes) => {
    const now = rt.clock.now();
    const execution = await getExecution(trx, claim.step.executionId);
    const step = stillHeld(execution, claim.step, workerId);
    if (!execution || !step) return undefined;
    const decision = decide(deps, execution, step, claim.interrupted);
    if (decision.run) {
      if (decision.event) changes.add(await applyStepEvent(trx, step, decision.event, {}, now, execution));
      return running(execution, step, now);
    }
    const change: StepChange = { reason: decision.reason };
    if (decision.event === 'wait') change.wakeAt = waitDeadline(now, (await getPipeline(trx, execution.pipelineId))?.options);
    changes.add(await applyStepEvent(trx, step, decision.event, change, now, execution));
    return undefined;
  });
  return { launch };
}

/** `step` to launch in `execution`, whose copy of the step it replaces. */
export function launchOf(execution: Execution, step: StepState, reads?: Promise<ContextReads>): Launch {
  return { step, execution: { ...execution, steps: execution.steps.map((s) => (s.id === step.id ? step : s)) }, reads };
}

function decide(deps: ClaimDeps, execution: Execution, step: StepState, interrupted: boolean): ClaimDecision {
  return claimDecision({
    execution: execution.status, step: step.status, action: step.action, interrupted,
    idempotent: deps.handlers[step.action]?.idempotent ?? false,
    pauseBeforeRun: step.pauseBeforeRun, resumed: Boolean(step.details.resumed),
  });
}

/**
 * PostgreSQL: the usual start of a claimed step (NOT_STARTED → RUNNING) in one guarded
 * statement that also reads the step's context (as-held.ts), instead of a transaction and a
 * read. Undefined when it did not apply: the locked transaction decides instead.
 */
async function startAsHeld(deps: ClaimDeps, claimed: StepState, interrupted: boolean): Promise<Launch | undefined> {
  const { rt } = deps;
  if (rt.db.dialect !== 'postgres') return undefined;
  const execution = await getExecution(rt.db.kysely, claimed.executionId);
  const step = stillHeld(execution, claimed, deps.workerId);
  if (!execution || !step) return undefined;
  const decision = decide(deps, execution, step, interrupted);
  if (!decision.run || !decision.event) return undefined;
  const now = rt.clock.now();
  let reads: Promise<ContextReads> | undefined;
  const started = await applyAsHeld(rt, execution, step, decision.event, {}, now, {
    readsFor: (runs) => {
      const held = holdContextReads(deps, execution, runs);
      reads = held.result;
      return held;
    },
  });
  return started && { ...running(execution, step, now), reads };
}

/** The claimed step as its execution was read, if `worker` still holds it. */
function stillHeld(execution: Execution | undefined, claimed: StepState, worker: string): StepState | undefined {
  const step = execution?.steps.find((s) => s.id === claimed.id);
  return step?.leaseOwner === worker ? step : undefined;
}

/** The claimed step as it runs once its start is written, in its execution. */
function running(execution: Execution, step: StepState, now: number): Launch {
  return launchOf(execution, { ...step, status: 'RUNNING', startedAt: step.startedAt ?? new Date(now) });
}
