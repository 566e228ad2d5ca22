import { describe, expect, it } from 'vitest';
import { STEP_ACTIONS, type StepAction } from '../../src/domain/model.ts';
import { timeoutEvent } from '../../src/domain/wait-timeout.ts';

// Written out: only the quality gates may go on after a timeout, and only when the pipeline says so.
const GATES: readonly StepAction[] = ['codeQuality', 'securityTest', 'loadTest'];

describe('wait timeout outcome', () => {
  it.each(STEP_ACTIONS.filter((a) => !GATES.includes(a)))('%s fails on timeout, even when the pipeline says continue', (action) => {
    expect(timeoutEvent(action, 'fail')).toBe('timeout');
    expect(timeoutEvent(action, 'continue')).toBe('timeout');
  });

  it.each(GATES)('the %s gate follows the pipeline', (action) => {
    expect(timeoutEvent(action, 'fail')).toBe('timeout');
    expect(timeoutEvent(action, 'continue')).toBe('timeoutContinue');
  });

  it('a person\'s decision is never taken by the clock', () => {
    for (const action of ['approval', 'schedule', 'managed', 'deploy'] as const) {
      expect(timeoutEvent(action, 'continue')).toBe('timeout');
    }
  });
});
