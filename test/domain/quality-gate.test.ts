import { describe, expect, it } from 'vitest';
import type { ImportantMetricsBehavior, Metric } from '../../src/domain/model.ts';
import {
  applyOverride, checkThreshold, checkThresholds, codeQualityMetrics, CODE_QUALITY_THRESHOLDS, compareValues,
  evaluateGate, type CodeQualityMeasures,
} from '../../src/domain/quality-gate.ts';

// Cloud Manager's code-quality metrics as the Adobe client's fixture has them
// (reference/cloud-manager/fixtures/codequality-metrics.json; ids dropped).
const CLOUD_MANAGER_FIXTURE: { metrics: Metric[] } = {
  metrics: [
    { severity: 'important', passed: true, override: false, actualValue: '50.5', expectedValue: '50', comparator: 'GTE', kpi: 'coverage' },
    { severity: 'important', passed: true, override: false, actualValue: 'A', expectedValue: 'A', comparator: 'EQ', kpi: 'security_rating' },
    { severity: 'informational', passed: true, override: false, actualValue: '0.0', expectedValue: '1', comparator: 'LTE', kpi: 'duplicated_lines_density' },
    { severity: 'critical', passed: true, override: false, actualValue: 'A', expectedValue: 'B', comparator: 'GTE', kpi: 'security_rating' },
    { severity: 'informational', passed: false, override: false, actualValue: '1', expectedValue: '0', comparator: 'EQ', kpi: 'skipped_tests' },
    { severity: 'informational', passed: false, override: false, actualValue: '31', expectedValue: '1', comparator: 'LT', kpi: 'open_issues' },
    { severity: 'important', passed: true, override: false, actualValue: 'A', expectedValue: 'A', comparator: 'EQ', kpi: 'sqale_rating' },
    { severity: 'important', passed: false, override: true, actualValue: 'D', expectedValue: 'C', comparator: 'GTE', kpi: 'reliability_rating' },
  ],
};

const GOOD: CodeQualityMeasures = {
  securityRating: 'A', reliabilityRating: 'A', maintainabilityRating: 'A', coverage: 80,
  skippedTests: 0, openIssues: 0, duplicatedLinesDensity: 0,
};

function metric(kpi: string, severity: Metric['severity'], passed: boolean, extra: Partial<Metric> = {}): Metric {
  return { kpi, severity, passed, override: false, actualValue: '1', expectedValue: '1', comparator: 'EQ', ...extra };
}

function byKpi(metrics: Metric[], kpi: string): Metric {
  const found = metrics.find((m) => m.kpi === kpi);
  if (!found) throw new Error(`no ${kpi}`);
  return found;
}

describe('compareValues', () => {
  it('compares numbers with every comparator', () => {
    expect(compareValues('50', 'GTE', '50')).toBe(true);
    expect(compareValues('49.9', 'GTE', '50')).toBe(false);
    expect(compareValues('51', 'GT', '50')).toBe(true);
    expect(compareValues('50', 'GT', '50')).toBe(false);
    expect(compareValues('0', 'LT', '1')).toBe(true);
    expect(compareValues('1', 'LT', '1')).toBe(false);
    expect(compareValues('1.0', 'LTE', '1')).toBe(true);
    expect(compareValues('1.1', 'LTE', '1')).toBe(false);
    expect(compareValues('0', 'EQ', '0.0')).toBe(true);
    expect(compareValues('1', 'NEQ', '0')).toBe(true);
  });

  it('compares ratings by quality (A best)', () => {
    expect(compareValues('A', 'GTE', 'B')).toBe(true);
    expect(compareValues('B', 'GTE', 'B')).toBe(true);
    expect(compareValues('C', 'GTE', 'B')).toBe(false);
    expect(compareValues('E', 'GTE', 'D')).toBe(false);
    expect(compareValues('A', 'EQ', 'A')).toBe(true);
    expect(compareValues('B', 'EQ', 'A')).toBe(false);
  });

  it('never passes unparsable values', () => {
    expect(compareValues('', 'GTE', '0')).toBe(false);
    expect(compareValues('n/a', 'LTE', '1')).toBe(false);
    expect(compareValues('Z', 'EQ', 'Z')).toBe(false);
  });
});

describe('code-quality metrics', () => {
  it("uses Cloud Manager's kpis, severities, comparators and thresholds", () => {
    const fixture = CLOUD_MANAGER_FIXTURE;
    const metrics = codeQualityMetrics(GOOD);
    expect(metrics.map((m) => m.kpi)).toEqual([
      'security_rating', 'reliability_rating', 'sqale_rating', 'coverage', 'skipped_tests', 'open_issues', 'duplicated_lines_density',
    ]);
    // Same shape and (where the current docs agree with the fixture) the same rules.
    for (const kpi of ['coverage', 'sqale_rating', 'open_issues', 'duplicated_lines_density']) {
      const ours = byKpi(metrics, kpi);
      const theirs = fixture.metrics.find((m) => m.kpi === kpi && m.severity === ours.severity);
      expect(theirs, kpi).toBeDefined();
      expect({ c: ours.comparator, e: ours.expectedValue }).toEqual({ c: theirs?.comparator, e: theirs?.expectedValue });
    }
    const security = byKpi(metrics, 'security_rating');
    expect(security).toMatchObject({ severity: 'critical', comparator: 'GTE', expectedValue: 'B' });
    // Our comparison logic agrees with every verdict in the fixture.
    for (const m of fixture.metrics) expect(compareValues(m.actualValue, m.comparator, m.expectedValue), m.kpi).toBe(m.passed);
    expect(fixture.metrics).toContainEqual(expect.objectContaining({ kpi: 'security_rating', severity: 'critical', comparator: 'GTE', expectedValue: 'B' }));
    expect(byKpi(metrics, 'reliability_rating')).toMatchObject({ severity: 'critical', comparator: 'GTE', expectedValue: 'D' });
    expect(byKpi(metrics, 'skipped_tests')).toMatchObject({ severity: 'informational', comparator: 'LTE', expectedValue: '1' });
    for (const m of metrics) {
      expect(typeof m.actualValue).toBe('string');
      expect(m).toMatchObject({ passed: true, override: false });
    }
  });

  it('formats values as Cloud Manager does', () => {
    const metrics = codeQualityMetrics({ ...GOOD, coverage: 50.45, duplicatedLinesDensity: 0, openIssues: 31 });
    expect(byKpi(metrics, 'coverage').actualValue).toBe('50.5');
    expect(byKpi(metrics, 'duplicated_lines_density').actualValue).toBe('0.0');
    expect(byKpi(metrics, 'open_issues')).toMatchObject({ actualValue: '31', passed: false });
  });

  it('fails each metric exactly at its threshold', () => {
    const fails = (patch: Partial<CodeQualityMeasures>, kpi: string): boolean => !byKpi(codeQualityMetrics({ ...GOOD, ...patch }), kpi).passed;
    expect(fails({ securityRating: 'B' }, 'security_rating')).toBe(false);
    expect(fails({ securityRating: 'C' }, 'security_rating')).toBe(true);
    expect(fails({ reliabilityRating: 'D' }, 'reliability_rating')).toBe(false);
    expect(fails({ reliabilityRating: 'E' }, 'reliability_rating')).toBe(true);
    expect(fails({ maintainabilityRating: 'B' }, 'sqale_rating')).toBe(true);
    expect(fails({ coverage: 50 }, 'coverage')).toBe(false);
    expect(fails({ coverage: 49.9 }, 'coverage')).toBe(true);
    expect(fails({ skippedTests: 1 }, 'skipped_tests')).toBe(false);
    expect(fails({ skippedTests: 2 }, 'skipped_tests')).toBe(true);
    expect(fails({ openIssues: 1 }, 'open_issues')).toBe(true);
    expect(fails({ duplicatedLinesDensity: 1 }, 'duplicated_lines_density')).toBe(false);
    expect(fails({ duplicatedLinesDensity: 1.1 }, 'duplicated_lines_density')).toBe(true);
  });

  it('checks generic thresholds and leaves unmeasured kpis out', () => {
    const metrics = checkThresholds(
      [{ kpi: 'response_time', severity: 'important', comparator: 'LTE', expectedValue: '500' }, ...CODE_QUALITY_THRESHOLDS],
      { response_time: '620', coverage: '10.0' },
    );
    expect(metrics.map((m) => [m.kpi, m.passed])).toEqual([['response_time', false], ['coverage', false]]);
    expect(checkThreshold({ kpi: 'x', severity: 'critical', comparator: 'EQ', expectedValue: '0' }, '0').passed).toBe(true);
  });
});

describe('evaluateGate', () => {
  const behaviors: ImportantMetricsBehavior[] = ['ask', 'fail', 'continue'];

  it('finishes when everything passes, whatever the behavior', () => {
    for (const b of behaviors) expect(evaluateGate(codeQualityMetrics(GOOD), b)).toEqual({ outcome: 'finished' });
    expect(evaluateGate([], 'ask')).toEqual({ outcome: 'finished' });
  });

  it('fails on a critical failure, whatever the behavior', () => {
    const metrics = codeQualityMetrics({ ...GOOD, securityRating: 'D', coverage: 10 });
    for (const b of behaviors) {
      const decision = evaluateGate(metrics, b);
      expect(decision.outcome).toBe('failed');
      expect(decision.outcome === 'failed' && decision.reason).toContain('security_rating D (expected GTE B)');
    }
  });

  it('waits, fails or continues on an important failure', () => {
    const metrics = codeQualityMetrics({ ...GOOD, coverage: 12.5 });
    const ask = evaluateGate(metrics, 'ask');
    expect(ask.outcome).toBe('waiting');
    expect(ask.outcome === 'waiting' && ask.reason).toContain('coverage 12.5 (expected GTE 50)');
    expect(evaluateGate(metrics, 'fail').outcome).toBe('failed');
    expect(evaluateGate(metrics, 'continue')).toEqual({ outcome: 'finished' });
  });

  it('only records informational failures', () => {
    const metrics = codeQualityMetrics({ ...GOOD, openIssues: 40, skippedTests: 9, duplicatedLinesDensity: 30 });
    expect(metrics.filter((m) => !m.passed)).toHaveLength(3);
    for (const b of behaviors) expect(evaluateGate(metrics, b)).toEqual({ outcome: 'finished' });
  });

  it('no longer counts overridden metrics', () => {
    const metrics = [metric('coverage', 'important', false, { override: true }), metric('x', 'critical', false, { override: true })];
    expect(evaluateGate(metrics, 'fail')).toEqual({ outcome: 'finished' });
  });

  it('is generic over any metric list (load-test style)', () => {
    const metrics = [metric('response_time', 'important', false), metric('error_rate', 'important', true)];
    expect(evaluateGate(metrics, 'ask').outcome).toBe('waiting');
    expect(evaluateGate([metric('cpu', 'critical', false)], 'continue').outcome).toBe('failed');
  });
});

describe('applyOverride', () => {
  const waiting = codeQualityMetrics({ ...GOOD, coverage: 20, maintainabilityRating: 'C', openIssues: 3 });

  it('accepts the documented body when every failing important metric is named', () => {
    const result = applyOverride(waiting, { metrics: [{ kpi: 'coverage', override: true }, { kpi: 'sqale_rating', override: true }] });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(byKpi(result.metrics, 'coverage')).toMatchObject({ passed: false, override: true });
    expect(byKpi(result.metrics, 'sqale_rating')).toMatchObject({ passed: false, override: true });
    expect(byKpi(result.metrics, 'open_issues')).toMatchObject({ passed: false, override: false });
    expect(byKpi(result.metrics, 'security_rating').override).toBe(false);
    expect(evaluateGate(result.metrics, 'ask')).toEqual({ outcome: 'finished' });
    expect(byKpi(waiting, 'coverage').override).toBe(false); // input untouched
  });

  it("accepts the Adobe client's body: whole metric objects with ids and extra fields", () => {
    const body = {
      extra: 'ignored',
      metrics: waiting.filter((m) => m.severity === 'important' && !m.passed).map((m, i) => ({ ...m, id: String(7000 + i), override: true })),
    };
    expect(applyOverride(waiting, body).ok).toBe(true);
  });

  it('refuses when a failing important metric is missing', () => {
    const result = applyOverride(waiting, { metrics: [{ kpi: 'coverage', override: true }] });
    expect(result).toMatchObject({ ok: false, refused: 'incomplete', missing: ['sqale_rating'] });
    const notOverridden = applyOverride(waiting, { metrics: [{ kpi: 'coverage', override: true }, { kpi: 'sqale_rating', override: false }] });
    expect(notOverridden).toMatchObject({ ok: false, refused: 'incomplete', missing: ['sqale_rating'] });
  });

  it('refuses to override a failing critical metric', () => {
    const critical = codeQualityMetrics({ ...GOOD, securityRating: 'E', coverage: 20 });
    const result = applyOverride(critical, { metrics: [{ kpi: 'security_rating', override: true }, { kpi: 'coverage', override: true }] });
    expect(result).toMatchObject({ ok: false, refused: 'critical', kpis: ['security_rating'] });
  });

  it('tells an important and a critical metric of the same kpi apart (fixture case)', () => {
    const metrics = [
      metric('security_rating', 'important', false, { actualValue: 'B', expectedValue: 'A' }),
      metric('security_rating', 'critical', true, { actualValue: 'B', expectedValue: 'B', comparator: 'GTE' }),
    ];
    const result = applyOverride(metrics, { metrics: [{ kpi: 'security_rating', override: true }] });
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.metrics.map((m) => m.override)).toEqual([true, false]);
  });

  it('refuses unknown kpis and malformed bodies', () => {
    expect(applyOverride(waiting, { metrics: [{ kpi: 'coverage', override: true }, { kpi: 'sqale_rating', override: true }, { kpi: 'nope', override: true }] }))
      .toMatchObject({ ok: false, refused: 'unknown-metric', kpis: ['nope'] });
    for (const body of [null, 'x', [], {}, { metrics: 'x' }, { metrics: [1] }, { metrics: [{ override: true }] }, { metrics: [{ kpi: '', override: true }] }]) {
      expect(applyOverride(waiting, body), JSON.stringify(body)).toMatchObject({ ok: false, refused: 'invalid-body' });
    }
  });

  it('accepts an empty list when nothing important fails', () => {
    expect(applyOverride(codeQualityMetrics(GOOD), { metrics: [] }).ok).toBe(true);
  });
});
