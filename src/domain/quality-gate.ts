// Quality gates, Cloud Manager style. Pure.
// A gate is a list of thresholds; checking measured values against them yields Cloud Manager
// `Metric`s (values as strings, letters for ratings). The decision is generic over any metric
// list, so code quality, security testing and load testing share it:
//   a failing critical metric        → the step fails;
//   a failing important metric       → ask: wait for a person / fail: fail / continue: go on;
//   a failing informational metric   → recorded only.
// An overridden metric (after a person advanced the step) no longer counts as failing.
import type { Comparator, ImportantMetricsBehavior, Metric, Severity } from './model.ts';
import { isRating, ratingScore, type Rating } from './ratings.ts';

export interface Threshold {
  kpi: string;
  severity: Severity;
  comparator: Comparator;
  /** The value the actual one is compared with: a number, or a rating letter. */
  expectedValue: string;
}

/**
 * Cloud Manager's code-quality gate (code-quality-testing.md, 2025; comparators as in the
 * metric fixture): security GTE B critical, reliability GTE D critical, maintainability EQ A
 * important, coverage GTE 50 important, skipped tests LTE 1, open issues LT 1 and duplicated
 * lines LTE 1 % informational.
 */
export const CODE_QUALITY_THRESHOLDS: readonly Threshold[] = [
  { kpi: 'security_rating', severity: 'critical', comparator: 'GTE', expectedValue: 'B' },
  { kpi: 'reliability_rating', severity: 'critical', comparator: 'GTE', expectedValue: 'D' },
  { kpi: 'sqale_rating', severity: 'important', comparator: 'EQ', expectedValue: 'A' },
  { kpi: 'coverage', severity: 'important', comparator: 'GTE', expectedValue: '50' },
  { kpi: 'skipped_tests', severity: 'informational', comparator: 'LTE', expectedValue: '1' },
  { kpi: 'open_issues', severity: 'informational', comparator: 'LT', expectedValue: '1' },
  { kpi: 'duplicated_lines_density', severity: 'informational', comparator: 'LTE', expectedValue: '1' },
];

/** Ratings compare by quality (A best); anything else numerically. Unparsable → does not pass. */
function comparable(value: string): number | undefined {
  const trimmed = value.trim();
  if (isRating(trimmed)) return ratingScore(trimmed);
  if (trimmed === '') return undefined;
  const n = Number(trimmed);
  return Number.isFinite(n) ? n : undefined;
}

export function compareValues(actual: string, comparator: Comparator, expected: string): boolean {
  const a = comparable(actual);
  const e = comparable(expected);
  if (a === undefined || e === undefined) return false;
  switch (comparator) {
    case 'GT': return a > e;
    case 'GTE': return a >= e;
    case 'LT': return a < e;
    case 'LTE': return a <= e;
    case 'EQ': return a === e;
    case 'NEQ': return a !== e;
  }
}

/** Numbers become strings the way Cloud Manager shows them; pass `decimals` for percentages. */
export function formatValue(value: number | string, decimals?: number): string {
  if (typeof value === 'string') return value;
  return decimals === undefined ? String(value) : value.toFixed(decimals);
}

export function checkThreshold(threshold: Threshold, actualValue: string): Metric {
  return {
    kpi: threshold.kpi,
    severity: threshold.severity,
    passed: compareValues(actualValue, threshold.comparator, threshold.expectedValue),
    override: false,
    actualValue,
    expectedValue: threshold.expectedValue,
    comparator: threshold.comparator,
  };
}

/** Checks every threshold whose kpi has a measured value; unmeasured kpis are left out. */
export function checkThresholds(thresholds: readonly Threshold[], actual: Record<string, string | undefined>): Metric[] {
  const metrics: Metric[] = [];
  for (const threshold of thresholds) {
    const value = actual[threshold.kpi];
    if (value !== undefined) metrics.push(checkThreshold(threshold, value));
  }
  return metrics;
}

export interface CodeQualityMeasures {
  securityRating: Rating;
  reliabilityRating: Rating;
  maintainabilityRating: Rating;
  /** Percent. */
  coverage: number;
  skippedTests: number;
  openIssues: number;
  /** Percent. */
  duplicatedLinesDensity: number;
}

export function codeQualityMetrics(m: CodeQualityMeasures): Metric[] {
  return checkThresholds(CODE_QUALITY_THRESHOLDS, {
    security_rating: m.securityRating,
    reliability_rating: m.reliabilityRating,
    sqale_rating: m.maintainabilityRating,
    coverage: formatValue(m.coverage, 1),
    skipped_tests: formatValue(m.skippedTests),
    open_issues: formatValue(m.openIssues),
    duplicated_lines_density: formatValue(m.duplicatedLinesDensity, 1),
  });
}

export type GateDecision =
  | { outcome: 'finished' }
  | { outcome: 'failed'; reason: string }
  | { outcome: 'waiting'; reason: string };

export function isFailing(metric: Metric): boolean {
  return !metric.passed && !metric.override;
}

function describe(metrics: Metric[]): string {
  return metrics.map((m) => `${m.kpi} ${m.actualValue} (expected ${m.comparator} ${m.expectedValue})`).join(', ');
}

export function evaluateGate(metrics: readonly Metric[], behavior: ImportantMetricsBehavior): GateDecision {
  const critical = metrics.filter((m) => m.severity === 'critical' && isFailing(m));
  if (critical.length > 0) {
    return { outcome: 'failed', reason: `Critical quality metrics failed: ${describe(critical)}` };
  }
  const important = metrics.filter((m) => m.severity === 'important' && isFailing(m));
  if (important.length === 0 || behavior === 'continue') return { outcome: 'finished' };
  if (behavior === 'fail') {
    return { outcome: 'failed', reason: `Important quality metrics failed: ${describe(important)}` };
  }
  return {
    outcome: 'waiting',
    reason: `Important quality metrics failed: ${describe(important)}; override them to continue or cancel`,
  };
}

export type OverrideRefusal =
  | { refused: 'invalid-body'; message: string }
  | { refused: 'critical'; message: string; kpis: string[] }
  | { refused: 'unknown-metric'; message: string; kpis: string[] }
  | { refused: 'incomplete'; message: string; missing: string[] };

export type OverrideResult = { ok: true; metrics: Metric[] } | ({ ok: false } & OverrideRefusal);

interface OverrideEntry { kpi: string; severity?: Severity }

function parseOverrideBody(body: unknown): OverrideEntry[] | string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'the body must be a JSON object';
  const list = (body as Record<string, unknown>)['metrics'];
  if (!Array.isArray(list)) return 'the body must have a "metrics" array';
  const entries: OverrideEntry[] = [];
  for (const [index, item] of list.entries()) {
    if (typeof item !== 'object' || item === null) return `metrics[${index}] must be an object`;
    const record = item as Record<string, unknown>;
    const kpi = record['kpi'];
    if (typeof kpi !== 'string' || kpi === '') return `metrics[${index}].kpi must be a non-empty string`;
    if (record['override'] !== true) continue; // only explicit overrides count
    const severity = record['severity'];
    entries.push({
      kpi,
      severity: severity === 'critical' || severity === 'important' || severity === 'informational' ? severity : undefined,
    });
  }
  return entries;
}

/**
 * Applies a Cloud Manager advance body `{"metrics":[{"kpi":"coverage","override":true}, …]}`.
 * Entries may be whole metric objects (the Adobe client sends them with ids); a `severity` in an
 * entry narrows it to that metric when a kpi appears at several severities. Every failing
 * important metric must be overridden, and no failing critical one may be named.
 */
export function applyOverride(metrics: readonly Metric[], body: unknown): OverrideResult {
  const parsed = parseOverrideBody(body);
  if (typeof parsed === 'string') return { ok: false, refused: 'invalid-body', message: parsed };
  const matches = (m: Metric, e: OverrideEntry): boolean => m.kpi === e.kpi && (e.severity === undefined || m.severity === e.severity);

  const unknown = parsed.filter((e) => !metrics.some((m) => matches(m, e))).map((e) => e.kpi);
  if (unknown.length > 0) {
    return { ok: false, refused: 'unknown-metric', kpis: unknown, message: `no such metric: ${unknown.join(', ')}` };
  }
  const criticalNamed = metrics.filter((m) => m.severity === 'critical' && isFailing(m) && parsed.some((e) => matches(m, e)));
  if (criticalNamed.length > 0) {
    const kpis = criticalNamed.map((m) => m.kpi);
    return { ok: false, refused: 'critical', kpis, message: `critical metrics cannot be overridden: ${kpis.join(', ')}` };
  }
  const targeted = (m: Metric): boolean => m.severity === 'important' && !m.passed && parsed.some((e) => matches(m, e));
  const missing = metrics.filter((m) => m.severity === 'important' && isFailing(m) && !targeted(m)).map((m) => m.kpi);
  if (missing.length > 0) {
    return {
      ok: false, refused: 'incomplete', missing,
      message: `all failing important metrics must be overridden; missing: ${missing.join(', ')}`,
    };
  }
  return { ok: true, metrics: metrics.map((m) => (targeted(m) ? { ...m, override: true } : { ...m })) };
}
