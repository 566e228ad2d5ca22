import { describe, expect, it } from 'vitest';
import { EXECUTION_STATUSES, STEP_STATUSES, type ExecutionStatus, type StepStatus } from '../../src/domain/model.ts';
import {
  EXECUTION_EVENTS, STEP_EVENTS, executionEventAfterStep, executionTransition, isStepTerminal, stepTransition,
  type ExecutionEvent, type StepEvent,
} from '../../src/domain/transitions.ts';

// The whole table, written out: every pair not listed must be refused.
const STEP_ALLOWED: Record<string, StepStatus> = {
  'NOT_STARTED claim': 'RUNNING', 'NOT_STARTED cancel': 'CANCELLED', 'NOT_STARTED wait': 'WAITING',
  'RUNNING claim': 'RUNNING', 'RUNNING finish': 'FINISHED', 'RUNNING fail': 'FAILED', 'RUNNING error': 'ERROR',
  'RUNNING wait': 'WAITING', 'RUNNING incomplete': 'INCOMPLETE', 'RUNNING rollBack': 'ROLLING_BACK',
  'RUNNING rolledBack': 'ROLLED_BACK', 'RUNNING cancel': 'CANCELLED',
  'WAITING advance': 'FINISHED', 'WAITING resume': 'RUNNING', 'WAITING reject': 'FAILED', 'WAITING timeout': 'FAILED',
  'WAITING timeoutContinue': 'FINISHED', 'WAITING cancel': 'CANCELLED', 'WAITING wait': 'WAITING',
  'ROLLING_BACK rolledBack': 'ROLLED_BACK', 'ROLLING_BACK fail': 'FAILED', 'ROLLING_BACK error': 'ERROR',
  'ROLLING_BACK claim': 'RUNNING', 'ROLLING_BACK cancel': 'CANCELLED',
};

const EXECUTION_ALLOWED: Record<string, ExecutionStatus> = {
  'NOT_STARTED start': 'RUNNING', 'NOT_STARTED requestCancel': 'CANCELLED',
  'RUNNING finish': 'FINISHED', 'RUNNING fail': 'FAILED', 'RUNNING error': 'ERROR', 'RUNNING requestCancel': 'CANCELLING',
  'CANCELLING cancelled': 'CANCELLED', 'CANCELLING fail': 'FAILED', 'CANCELLING error': 'ERROR', 'CANCELLING finish': 'CANCELLED',
};

describe('step transitions', () => {
  const pairs = STEP_STATUSES.flatMap((s) => STEP_EVENTS.map((e) => [s, e] as [StepStatus, StepEvent]));
  it.each(pairs)('%s + %s', (status, event) => {
    const result = stepTransition(status, event);
    const expected = STEP_ALLOWED[`${status} ${event}`];
    if (expected) expect(result).toEqual({ ok: true, to: expected });
    else {
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.code).toBe('INVALID_TRANSITION');
        expect(result.message).toContain(status);
      }
    }
  });

  it('terminal statuses accept no event at all', () => {
    for (const s of STEP_STATUSES.filter(isStepTerminal)) {
      for (const e of STEP_EVENTS) expect(stepTransition(s, e).ok).toBe(false);
    }
  });
});

describe('execution transitions', () => {
  const pairs = EXECUTION_STATUSES.flatMap((s) => EXECUTION_EVENTS.map((e) => [s, e] as [ExecutionStatus, ExecutionEvent]));
  it.each(pairs)('%s + %s', (status, event) => {
    const result = executionTransition(status, event);
    const expected = EXECUTION_ALLOWED[`${status} ${event}`];
    if (expected) expect(result).toEqual({ ok: true, to: expected });
    else expect(result.ok).toBe(false);
  });
});

describe('how a step ends its execution', () => {
  it('done steps go on, the last one finishes the execution', () => {
    expect(executionEventAfterStep('FINISHED', false)).toBeUndefined();
    expect(executionEventAfterStep('INCOMPLETE', false)).toBeUndefined();
    expect(executionEventAfterStep('FINISHED', true)).toBe('finish');
    expect(executionEventAfterStep('INCOMPLETE', true)).toBe('finish');
  });
  it('failures fail it, errors error it, cancels cancel it', () => {
    expect(executionEventAfterStep('FAILED', false)).toBe('fail');
    expect(executionEventAfterStep('ROLLED_BACK', true)).toBe('fail');
    expect(executionEventAfterStep('ERROR', false)).toBe('error');
    expect(executionEventAfterStep('CANCELLED', false)).toBe('cancelled');
    expect(executionEventAfterStep('RUNNING', false)).toBeUndefined();
  });
});
