// Which step advance/cancel act on and with which body: Adobe's JS library's choices (NOTES §5.4).
import { describe, expect, it } from 'vitest';
import { advanceCommand, cancelCommand, findStep, NoStepError, overrideBody } from '../../src/cli/current-step.ts';
import type { Metric, StepStateView } from '../../src/cli/hal.ts';

const s = (action: string, status: string, environmentType?: string): StepStateView =>
  ({ id: `${action}-${environmentType ?? ''}`, action, status, ...(environmentType ? { environmentType } : {}) });

describe('advanceCommand', () => {
  it.each([
    ['approval', { approved: true }],
    ['managed', { start: true }],
    ['schedule', { type: 'IMMEDIATE' }],
    ['deploy', { resume: true }],
  ])('%s → %j', (action, body) => {
    expect(advanceCommand([s('build', 'FINISHED'), s(action, 'WAITING')])).toMatchObject({ link: 'advance', body });
  });

  it('a waiting gate needs its metrics; the body overrides every failing important one, whole', () => {
    expect(advanceCommand([s('codeQuality', 'WAITING')])).toMatchObject({ needsMetrics: true });
    const metrics: Metric[] = [
      { id: '1', kpi: 'coverage', severity: 'important', passed: false, override: false, actualValue: '20', expectedValue: '50', comparator: 'GTE' },
      { id: '2', kpi: 'security_rating', severity: 'critical', passed: true, override: false, actualValue: 'A', expectedValue: 'B', comparator: 'GTE' },
      { id: '3', kpi: 'open_issues', severity: 'informational', passed: false, override: false, actualValue: '3', expectedValue: '1', comparator: 'LT' },
    ];
    expect(overrideBody(metrics)).toEqual({ metrics: [{ ...metrics[0], override: true }] });
  });

  it('refuses when nothing waits', () => {
    expect(() => advanceCommand([s('build', 'RUNNING')])).toThrow(NoStepError);
  });
});

describe('cancelCommand', () => {
  it('picks the first step that is not FINISHED or INCOMPLETE', () => {
    expect(cancelCommand([s('uiTest', 'INCOMPLETE'), s('approval', 'WAITING')])).toMatchObject({ link: 'cancel', body: { approved: false } });
    expect(cancelCommand([s('build', 'RUNNING')])).toMatchObject({ link: 'cancel', body: { cancel: true } });
    expect(cancelCommand([s('codeQuality', 'WAITING')])).toMatchObject({ link: 'cancel', body: { override: false } });
    expect(cancelCommand([s('schedule', 'WAITING')])).toMatchObject({ link: 'cancel', body: { cancel: true } });
    expect(cancelCommand([s('managed', 'WAITING')])).toMatchObject({ link: 'cancel', body: { start: false } });
  });

  it('a paused deploy is stopped through its advance link with {resume:false}', () => {
    expect(cancelCommand([s('deploy', 'WAITING', 'prod')])).toMatchObject({ link: 'advance', body: { resume: false } });
  });
});

describe('findStep', () => {
  it('maps the CLI names to steps', () => {
    const steps = [s('deploy', 'FINISHED', 'stage'), s('contentAudit', 'FINISHED'), s('deploy', 'NOT_STARTED', 'prod'), s('loadTest', 'FINISHED')];
    expect(findStep(steps, 'stageDeploy')?.environmentType).toBe('stage');
    expect(findStep(steps, 'prodDeploy')?.environmentType).toBe('prod');
    expect(findStep(steps, 'experienceAudit')?.action).toBe('contentAudit');
    expect(findStep(steps, 'performance')?.action).toBe('loadTest');
  });
});
