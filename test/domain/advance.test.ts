import { describe, expect, it } from 'vitest';
import { decideAdvance, decideCancel } from '../../src/domain/advance.ts';
import type { Metric, StepAction } from '../../src/domain/model.ts';
import { step } from '../support/fixtures.ts';

const metric = (kpi: string, severity: Metric['severity'], passed: boolean): Metric =>
  ({ kpi, severity, passed, override: false, actualValue: '1', expectedValue: '2', comparator: 'GTE' });

describe('advance bodies (Cloud Manager)', () => {
  const gate = step({ action: 'codeQuality', status: 'WAITING', metrics: [
    metric('coverage', 'important', false), metric('sqale_rating', 'important', false), metric('open_issues', 'informational', false),
  ] });

  it('override needs every failing important metric; full metric objects are tolerated', () => {
    expect(decideAdvance(gate, { metrics: [{ kpi: 'coverage', override: true }] }))
      .toMatchObject({ ok: false, code: 'METRICS_NOT_OVERRIDDEN' });
    const d = decideAdvance(gate, { metrics: [
      { ...metric('coverage', 'important', false), override: true, id: '5' }, { kpi: 'sqale_rating', override: true },
    ] });
    expect(d.ok && d.event).toBe('advance');
    expect(d.ok && d.metrics?.filter((m) => m.override).map((m) => m.kpi)).toEqual(['coverage', 'sqale_rating']);
  });
  it('critical metrics cannot be overridden', () => {
    const s = step({ action: 'codeQuality', status: 'WAITING', metrics: [metric('security_rating', 'critical', false)] });
    expect(decideAdvance(s, { metrics: [{ kpi: 'security_rating', override: true }] })).toMatchObject({ ok: false, code: 'BAD_INPUT' });
  });
  it('approval, schedule, managed and paused deploy', () => {
    const w = (action: StepAction) => step({ action, status: 'WAITING' });
    expect(decideAdvance(w('approval'), { approved: true })).toMatchObject({ ok: true, event: 'advance' });
    expect(decideAdvance(w('approval'), { approved: false })).toMatchObject({ ok: true, event: 'reject' });
    expect(decideAdvance(w('schedule'), { type: 'IMMEDIATE' })).toMatchObject({ ok: true, event: 'advance' });
    const at = '2026-12-01T10:00:00.000Z';
    expect(decideAdvance(w('schedule'), { type: 'SCHEDULED', schedule: at })).toEqual({ ok: true, event: 'wait', scheduledAt: new Date(at) });
    expect(decideAdvance(w('schedule'), { type: 'SCHEDULED', schedule: 'tomorrow' })).toMatchObject({ ok: false, code: 'BAD_INPUT' });
    expect(decideAdvance(w('managed'), { start: true })).toMatchObject({ ok: true, event: 'advance' });
    expect(decideAdvance(w('deploy'), { resume: true })).toMatchObject({ ok: true, event: 'resume' });
    expect(decideAdvance(w('deploy'), { resume: false })).toMatchObject({ ok: true, event: 'reject' });
    expect(decideAdvance(w('approval'), 'yes')).toMatchObject({ ok: false, code: 'BAD_INPUT' });
  });
  it('only waiting steps advance', () => {
    expect(decideAdvance(step({ action: 'approval', status: 'RUNNING' }), { approved: true })).toMatchObject({ ok: false, code: 'NOT_WAITING' });
  });
  it('cancel bodies: refusals reject a waiting step, anything else cancels', () => {
    const w = step({ action: 'approval', status: 'WAITING' });
    for (const body of [{ override: false }, { approved: false }, { resume: false }, { start: false }]) {
      expect(decideCancel(w, body)).toMatchObject({ ok: true, event: 'reject' });
    }
    expect(decideCancel(w, { cancel: true })).toMatchObject({ ok: true, event: 'cancel' });
    expect(decideCancel(step({ status: 'RUNNING' }), undefined)).toMatchObject({ ok: true, event: 'cancel' });
    expect(decideCancel(step({ status: 'FINISHED' }), {})).toMatchObject({ ok: false, code: 'NOT_RUNNING' });
  });
});
