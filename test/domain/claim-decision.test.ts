import { describe, expect, it } from 'vitest';
import { claimDecision, waitDeadline, type ClaimFacts } from '../../src/domain/claim-decision.ts';
import { EXECUTION_STATUSES, STEP_STATUSES } from '../../src/domain/model.ts';
import { dueWaitTransition } from '../../src/domain/wait-timeout.ts';

const facts = (over: Partial<ClaimFacts> = {}): ClaimFacts => ({
  execution: 'RUNNING', step: 'NOT_STARTED', action: 'deploy', interrupted: false, idempotent: false,
  pauseBeforeRun: false, resumed: false, ...over,
});

describe('what the engine does with a claimed step', () => {
  // Written out row by row: the facts, then what must happen.
  it.each([
    ['a fresh step runs, claimed first', {}, { run: true, event: 'claim' }],
    ['a takeover of a RUNNING idempotent step runs on, no transition', { step: 'RUNNING', interrupted: true, idempotent: true }, { run: true }],
    ['a rollback cut off by a crash runs again from the start', { step: 'ROLLING_BACK', interrupted: true, idempotent: true }, { run: true, event: 'claim' }],
    ['a cancelled execution cancels the step', { execution: 'CANCELLING' }, { run: false, event: 'cancel' }],
    ['... even an interrupted, unsafe one', { execution: 'CANCELLED', step: 'RUNNING', interrupted: true }, { run: false, event: 'cancel' }],
    ['an interrupted step that is not safe to run twice errs', { step: 'RUNNING', interrupted: true }, { run: false, event: 'error' }],
    ['an interrupted step that never started runs', { interrupted: true }, { run: true, event: 'claim' }],
    ['a step paused before production waits', { pauseBeforeRun: true }, { run: false, event: 'wait' }],
    ['... and runs once resumed', { pauseBeforeRun: true, resumed: true }, { run: true, event: 'claim' }],
    ['a cancel beats a pause', { pauseBeforeRun: true, execution: 'CANCELLING' }, { run: false, event: 'cancel' }],
  ] as const)('%s', (_name, over, expected) => {
    expect(claimDecision(facts(over))).toMatchObject(expected);
    if (expected.run) expect(claimDecision(facts(over))).toEqual(expected);
  });

  it('is total: every pair of statuses gets a decision, with a reason whenever the step does not run', () => {
    for (const execution of EXECUTION_STATUSES) {
      for (const step of STEP_STATUSES) {
        for (const interrupted of [false, true]) {
          const d = claimDecision(facts({ execution, step, interrupted }));
          if (!d.run) expect(d.reason).not.toBe('');
        }
      }
    }
  });

  it('an interrupted unsafe step says why it was not re-run', () => {
    const d = claimDecision(facts({ step: 'RUNNING', interrupted: true, action: 'build' }));
    expect(d).toMatchObject({ run: false, reason: expect.stringMatching(/build is not safe to run twice/) });
  });
});

describe('when a wait ends', () => {
  it('a wait lasts the pipeline\'s timeout; with the pipeline gone it is due at once', () => {
    expect(waitDeadline(1000, { waitTimeoutMs: 86_400_000 })).toBe(1000 + 86_400_000);
    expect(waitDeadline(1000, undefined)).toBe(1000);
  });

  it.each([
    ['a scheduled deployment starts', 'deploy', true, { waitTimeoutMs: 86_400_000, waitTimeoutOutcome: 'fail' }, 'advance', /^scheduled time reached$/],
    ['an approval times out and fails', 'approval', false, { waitTimeoutMs: 14 * 86_400_000, waitTimeoutOutcome: 'continue' }, 'timeout', /^timed out after waiting 14 days$/],
    ['a gate goes on when the pipeline says so', 'codeQuality', false, { waitTimeoutMs: 36 * 3_600_000, waitTimeoutOutcome: 'continue' }, 'timeoutContinue', /^timed out after waiting 1\.5 days; the pipeline continues$/],
    ['a gate of a pipeline that is gone fails', 'codeQuality', false, undefined, 'timeout', /^timed out after waiting 0 days$/],
  ] as const)('%s', (_name, action, scheduled, options, event, reason) => {
    const t = dueWaitTransition(action, scheduled, options);
    expect(t.event).toBe(event);
    expect(t.reason).toMatch(reason);
  });
});
