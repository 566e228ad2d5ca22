// A handler's result, written as the step's transition, with the hand-off of its successor:
// in one guarded statement on PostgreSQL when nothing changed meanwhile (as-held.ts), else in a
// locked transaction. Either way only while this worker still holds the step's lease.
import type { Execution, StepState } from '../domain/model.ts';
import type { StepEvent } from '../domain/transitions.ts';
import { waitDeadline } from '../domain/claim-decision.ts';
import type { StepResult } from '../steps/handler.ts';
import { getExecution } from '../store/executions.ts';
import { getPipeline } from '../store/pipelines.ts';
import { holdContextReads, type ContextDeps, type ContextReads } from './context.ts';
import { addCompletion, applyAsHeld } from './as-held.ts';
import { launchOf, type Launch } from './claim.ts';
import { transact } from './runtime.ts';
import { applyStepEvent, TransitionRefused, type Announcement, type HandOff, type StepChange } from './state.ts';

export interface CompletionDeps extends ContextDeps {
  workerId: string;
}

/** A completion written: its announcement, and the successor handed off to this worker, to launch. */
export interface Completed {
  outcome: Announcement;
  handedOff?: Launch;
}

const RESULT_EVENT: Record<StepResult['outcome'], StepEvent> = {
  finished: 'finish', failed: 'fail', waiting: 'wait', incomplete: 'incomplete', rolledBack: 'rolledBack',
};

/**
 * Writes a handler's result, if this worker still holds the lease (undefined when it does not).
 * null = cancelled. `handOff`: the worker that takes the successor, as of a moment, if any.
 */
export async function writeCompletion(
  deps: CompletionDeps, ran: StepState, held: Execution, result: StepResult | null, crashed: boolean,
  handOff: (now: number) => HandOff | undefined,
): Promise<Completed | undefined> {
  const { rt } = deps;
  const { event, change } = outcomeOf(result, crashed);
  const now = rt.clock.now();
  type Completion = { outcome: Announcement; execution: Execution } | undefined;
  // The next step's context is read by the completion's own statement (it depends on neither).
  let prefetched: { stepId: string; reads: Promise<ContextReads> } | undefined;
  const readsFor = (next: StepState) => {
    const reads = holdContextReads(deps, held, next);
    prefetched = { stepId: next.id, reads: reads.result };
    return reads;
  };
  // A wait's deadline needs the pipeline's options, read in the transaction below.
  const fast = event === 'wait' ? undefined : await applyAsHeld(rt, held, ran, event, change, now, { handOff: handOff(now), readsFor });
  const done: Completion = fast ? { outcome: fast, execution: held } : await transact<Completion>(rt, async (trx, changes) => {
    // Locked (PostgreSQL): a worker whose lease lapsed while its handler ran cannot write its
    // result after another worker took the step over and finished it (the lock orders the two
    // transactions, and the lease check below then sees the other's claim).
    const execution = await getExecution(trx, ran.executionId, undefined, rt.db.dialect);
    const step = execution?.steps.find((s) => s.id === ran.id);
    if (!execution || !step || step.leaseOwner !== deps.workerId) return undefined;
    const now = rt.clock.now();
    const settle = async (event: StepEvent, change: StepChange): Promise<Completion> => {
      const outcome = await applyStepEvent(trx, step, event, change, now, execution, handOff(now));
      addCompletion(changes, outcome);
      return { outcome, execution };
    };
    if (event === 'wait') change.wakeAt = waitDeadline(now, (await getPipeline(trx, execution.pipelineId))?.options);
    try {
      return await settle(event, change);
    } catch (error) {
      // A result the step's state cannot take (a bug in a handler) must not leave it leased forever.
      if (!(error instanceof TransitionRefused) || result === null) throw error;
      return settle('error', { reason: `${step.action} returned ${result.outcome} while ${step.status}: ${error.message}` });
    }
  });
  if (!done) return undefined;
  const next = done.outcome.handedOff;
  if (!next) return { outcome: done.outcome };
  // Read by the completion's statement only if it wrote the completion.
  const reads = fast && prefetched?.stepId === next.id ? prefetched.reads : undefined;
  return { outcome: done.outcome, handedOff: launchOf(done.execution, next, reads) };
}

/** The transition a handler's result asks for (null: the step was cancelled). */
function outcomeOf(result: StepResult | null, crashed: boolean): { event: StepEvent; change: StepChange } {
  if (result === null) return { event: 'cancel', change: { reason: 'cancelled' } };
  return {
    event: crashed ? 'error' : RESULT_EVENT[result.outcome],
    change: {
      ...('reason' in result ? { reason: result.reason } : {}),
      ...('metrics' in result && result.metrics ? { metrics: result.metrics } : {}),
      ...(result.details ? { details: result.details } : {}),
    },
  };
}
