// The lifecycle of steps and executions as pure transition functions. Every (status, event)
// pair is either a defined transition or a typed refusal; the engine writes state only
// through these functions.
import type { ExecutionStatus, StepStatus } from './model.ts';

export type StepEvent =
  | 'claim'       // a worker starts (or, after resume, restarts) the step
  | 'finish'
  | 'fail'
  | 'error'       // the handler crashed or was interrupted and cannot be re-run
  | 'wait'        // a gate or a person is needed
  | 'incomplete'  // nothing to do
  | 'rollBack'    // a deploy starts putting the previous release back
  | 'rolledBack'
  | 'advance'     // a person let a waiting step go on (override, approve, schedule, resume)
  | 'resume'      // a paused step starts running (pause before production)
  | 'reject'      // a person refused (override:false, approved:false, resume:false)
  | 'timeout'     // a waiting step's time ran out and the pipeline says: fail
  | 'timeoutContinue' // ... and the pipeline says: continue
  | 'cancel';

export const STEP_EVENTS: readonly StepEvent[] = [
  'claim', 'finish', 'fail', 'error', 'wait', 'incomplete', 'rollBack', 'rolledBack',
  'advance', 'resume', 'reject', 'timeout', 'timeoutContinue', 'cancel',
];

export type ExecutionEvent = 'start' | 'finish' | 'fail' | 'error' | 'requestCancel' | 'cancelled';
export const EXECUTION_EVENTS: readonly ExecutionEvent[] = [
  'start', 'finish', 'fail', 'error', 'requestCancel', 'cancelled',
];

export interface Refusal<S extends string, E extends string> {
  ok: false;
  code: 'INVALID_TRANSITION';
  from: S;
  event: E;
  message: string;
}
export type Transition<S extends string, E extends string> = { ok: true; to: S } | Refusal<S, E>;

const STEP_TABLE: Record<StepStatus, Partial<Record<StepEvent, StepStatus>>> = {
  NOT_STARTED: { claim: 'RUNNING', cancel: 'CANCELLED', wait: 'WAITING' },
  RUNNING: {
    // A re-claim of a RUNNING step is the takeover after a worker's lease expired.
    claim: 'RUNNING', finish: 'FINISHED', fail: 'FAILED', error: 'ERROR', wait: 'WAITING',
    incomplete: 'INCOMPLETE', rollBack: 'ROLLING_BACK', rolledBack: 'ROLLED_BACK', cancel: 'CANCELLED',
  },
  WAITING: {
    advance: 'FINISHED', resume: 'RUNNING', reject: 'FAILED', timeout: 'FAILED',
    timeoutContinue: 'FINISHED', cancel: 'CANCELLED',
    // A scheduled deployment stays WAITING until its time: re-entering WAITING is allowed.
    wait: 'WAITING',
  },
  // A rollback cut off by a crash is reclaimed as a fresh run of its (idempotent) step.
  ROLLING_BACK: { rolledBack: 'ROLLED_BACK', fail: 'FAILED', error: 'ERROR', claim: 'RUNNING', cancel: 'CANCELLED' },
  FINISHED: {},
  ERROR: {},
  FAILED: {},
  CANCELLED: {},
  ROLLED_BACK: {},
  INCOMPLETE: {},
};

const EXECUTION_TABLE: Record<ExecutionStatus, Partial<Record<ExecutionEvent, ExecutionStatus>>> = {
  NOT_STARTED: { start: 'RUNNING', requestCancel: 'CANCELLED' },
  RUNNING: { finish: 'FINISHED', fail: 'FAILED', error: 'ERROR', requestCancel: 'CANCELLING' },
  CANCELLING: { cancelled: 'CANCELLED', fail: 'FAILED', error: 'ERROR', finish: 'CANCELLED' },
  CANCELLED: {},
  FINISHED: {},
  ERROR: {},
  FAILED: {},
};

/** A transition read from a total table: its target, or a typed refusal. */
export function tableTransition<S extends string, E extends string>(
  table: Record<S, Partial<Record<E, S>>>, kind: string, from: S, event: E,
): Transition<S, E> {
  const to = table[from][event];
  if (to !== undefined) return { ok: true, to };
  return { ok: false, code: 'INVALID_TRANSITION', from, event, message: `a ${kind} that is ${from} cannot ${event}` };
}

export const stepTransition = (from: StepStatus, event: StepEvent): Transition<StepStatus, StepEvent> =>
  tableTransition(STEP_TABLE, 'step', from, event);

export const executionTransition = (
  from: ExecutionStatus, event: ExecutionEvent,
): Transition<ExecutionStatus, ExecutionEvent> => tableTransition(EXECUTION_TABLE, 'execution', from, event);

const TERMINAL_STEP: readonly StepStatus[] = [
  'FINISHED', 'ERROR', 'FAILED', 'CANCELLED', 'ROLLED_BACK', 'INCOMPLETE',
];
export const isStepTerminal = (s: StepStatus): boolean => TERMINAL_STEP.includes(s);
/** Done and successful, so the next step may run (INCOMPLETE = nothing to do, counts as done). */
export const isStepDone = (s: StepStatus): boolean => s === 'FINISHED' || s === 'INCOMPLETE';
export const isExecutionTerminal = (s: ExecutionStatus): boolean =>
  s === 'CANCELLED' || s === 'FINISHED' || s === 'ERROR' || s === 'FAILED';

/** How a step's terminal status ends its execution (undefined: the execution goes on). */
export function executionEventAfterStep(stepStatus: StepStatus, isLastStep: boolean): ExecutionEvent | undefined {
  if (isStepDone(stepStatus)) return isLastStep ? 'finish' : undefined;
  switch (stepStatus) {
    case 'FAILED': case 'ROLLED_BACK': return 'fail';
    case 'ERROR': return 'error';
    case 'CANCELLED': return 'cancelled';
    default: return undefined;
  }
}
