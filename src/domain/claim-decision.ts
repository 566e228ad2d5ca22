// What the engine does with a step it has just claimed, and when a wait ends: pure decisions,
// so that the engine only reads the facts and writes the outcome. The rules are a table read
// top down; the first rule whose condition holds decides.
import type { ExecutionStatus, PipelineOptions, StepAction, StepStatus } from './model.ts';
import type { StepEvent } from './transitions.ts';

/** What the engine knows about a claimed step. */
export interface ClaimFacts {
  execution: ExecutionStatus;
  step: StepStatus;
  action: StepAction;
  /** The previous lease ran out: an attempt was cut off mid-run (a crash, a kill). */
  interrupted: boolean;
  /** The handler may run twice with the effect of once. */
  idempotent: boolean;
  /** The step waits for a person before it first runs (pause before production). */
  pauseBeforeRun: boolean;
  /** A person already let the paused step go on. */
  resumed: boolean;
}

export type ClaimDecision =
  /** End the step with `event` (cancel, error) or park it (wait) instead of running it. */
  | { run: false; event: Extract<StepEvent, 'cancel' | 'error' | 'wait'>; reason: string }
  /** Run the handler; `event` is the transition to apply first (none for a takeover of a RUNNING step). */
  | { run: true; event?: 'claim' };

interface ClaimRule {
  when(f: ClaimFacts): boolean;
  decide(f: ClaimFacts): ClaimDecision;
}

export const CLAIM_RULES: readonly ClaimRule[] = [
  {
    when: (f) => f.execution === 'CANCELLING' || f.execution === 'CANCELLED',
    decide: () => ({ run: false, event: 'cancel', reason: 'execution cancelled' }),
  },
  {
    // Running twice what is not safe to run twice could deploy or notify twice: stop instead.
    when: (f) => f.interrupted && f.step !== 'NOT_STARTED' && !f.idempotent,
    decide: (f) => ({
      run: false, event: 'error',
      reason: `interrupted by a restart of Slipway; ${f.action} is not safe to run twice, so it was not re-run`,
    }),
  },
  {
    when: (f) => f.pauseBeforeRun && f.step === 'NOT_STARTED' && !f.resumed,
    decide: () => ({ run: false, event: 'wait', reason: 'paused before deploying to production' }),
  },
  {
    // A step RUNNING already is a takeover after an expired lease: it runs on, no transition.
    when: () => true,
    decide: (f) => (f.step === 'NOT_STARTED' || f.step === 'ROLLING_BACK' ? { run: true, event: 'claim' } : { run: true }),
  },
];

export function claimDecision(facts: ClaimFacts): ClaimDecision {
  const rule = CLAIM_RULES.find((r) => r.when(facts));
  // The last rule always holds; the fallback only satisfies the type checker.
  return rule ? rule.decide(facts) : { run: true };
}

/** When a step that starts waiting now times out; the pipeline's options are gone with it, if it is. */
export function waitDeadline(now: number, options: Pick<PipelineOptions, 'waitTimeoutMs'> | undefined): number {
  return now + (options?.waitTimeoutMs ?? 0);
}
