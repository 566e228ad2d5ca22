// Pure parts of the stage-testing steps: audit arithmetic, verdicts, JUnit writing, dispatcher
// rules, security heuristics, load metrics.
import { describe, expect, it } from 'vitest';
import { compareScore, median, medianScores, previousAudit, summarizeAudit } from '../../src/domain/audit-compare.ts';
import { judgeJUnit } from '../../src/steps/testing/junit-verdict.ts';
import { toJUnitXml } from '../../src/steps/testing/junit-writer.ts';
import { parseJUnit } from '../../src/runner/reports/junit.ts';
import { cacheTtlOf, deniedSamplePaths, samplePathOfRule } from '../../src/steps/testing/dispatcher-rules.ts';
import { hasDirectoryListing, hasStackTrace, missingSecurityHeaders } from '../../src/steps/testing/security-checks.ts';
import { errorRate, loadMetrics } from '../../src/steps/testing/load-metrics.ts';
import { isUiTestOptIn } from '../../src/steps/ui-test.ts';
import { auditMetrics, auditPaths } from '../../src/steps/content-audit.ts';
import { loadDurationSeconds } from '../../src/steps/load-test.ts';
import { firstMultipartFile } from '../../src/steps/testing/upload-server.ts';
import { parseDispatcherPackage } from '../../src/domain/contract.ts';
import { DEFAULT_PIPELINE_OPTIONS } from '../../src/domain/model.ts';

describe('audit comparison', () => {
  it('takes medians of runs and pages', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(median([])).toBeUndefined();
    expect(medianScores([{ performance: 90, seo: 80 }, { performance: 70 }, { performance: 100, seo: 100 }])).toEqual({ performance: 90, seo: 90 });
  });

  it('names changes like Cloud Manager, with a tolerance for noise', () => {
    expect(compareScore(90, 80)).toBe('better');
    expect(compareScore(70, 80)).toBe('worse');
    expect(compareScore(81, 80)).toBe('no change');
    expect(compareScore(80, undefined)).toBe('N/A');
  });

  it('summarizes against the previous audit, per category and per page', () => {
    const previous = previousAudit({ audit: { categories: { performance: 99, seo: 90 }, pages: [{ path: '/', scores: { performance: 99 }, timeMs: 1 }] } });
    const s = summarizeAudit(
      [{ path: '/', scores: { performance: 60, seo: 90, accessibility: 100 }, timeMs: 5000 }, { path: '/b', scores: { performance: 100 }, timeMs: 10 }],
      [{ path: '/gone', reason: '404' }], previous);
    expect(s.categories.performance).toBe(80);
    expect(s.changes).toEqual({ performance: 'worse', seo: 'no change', accessibility: 'N/A', 'best-practices': 'N/A' });
    expect(s.pageChanges['/']?.performance).toBe('worse');
    expect(s.pageChanges['/b']?.performance).toBe('N/A');
    expect(s.slowest[0]?.path).toBe('/');
    expect(s.unreachable).toEqual([{ path: '/gone', reason: '404' }]);
    expect(previousAudit(undefined)).toBeUndefined();
    expect(previousAudit({ audit: 'nonsense' })).toBeUndefined();
  });

  it('reports informational metrics against 80 as the fixture does', () => {
    const metrics = auditMetrics({ performance: 98, seo: 63 });
    expect(metrics).toEqual([
      { kpi: 'performance', severity: 'informational', passed: true, override: false, actualValue: '98', expectedValue: '80', comparator: 'GTE' },
      { kpi: 'seo', severity: 'informational', passed: false, override: false, actualValue: '63', expectedValue: '80', comparator: 'GTE' },
    ]);
    expect(auditPaths(['/', '/a'], ['/a', '/b'])).toEqual(['/', '/a', '/b']);
    expect(auditPaths([], undefined)).toEqual(['/']);
    expect(auditPaths(Array.from({ length: 30 }, (_, i) => `/${i}`), undefined)).toHaveLength(25);
  });
});

describe('JUnit verdicts', () => {
  const facts = { exitCode: 0, timedOut: false, timeoutMinutes: 30, reportFiles: 1 };
  it('fails on a failed test even with exit code 0, and without any report', () => {
    const summary = { tests: 2, failures: 1, errors: 0, skipped: 0, failed: [{ suite: 's', name: 't', message: 'boom' }] };
    const v = judgeJUnit('UI tests', facts, summary);
    expect(v.passed).toBe(false);
    expect(!v.passed && v.reason).toContain('s > t: boom');
    const none = judgeJUnit('functional tests', { ...facts, reportFiles: 0, exitCode: 0 }, undefined);
    expect(!none.passed && none.reason).toContain('no JUnit XML');
  });
  it('passes a green report even when the process exits non-zero', () => {
    expect(judgeJUnit('UI tests', { ...facts, exitCode: 3 }, { tests: 1, failures: 0, errors: 0, skipped: 0, failed: [] }).passed).toBe(true);
  });
  it('writes JUnit XML that the parser reads back', () => {
    const xml = toJUnitXml('slipway.product', [
      { group: 'health', name: 'author <ok>', passed: true, timeMs: 3 },
      { group: 'lb', name: 'serves /', passed: false, message: 'HTTP 500 & "bad"', timeMs: 4 },
    ], new Date(0));
    const parsed = parseJUnit(xml);
    expect(parsed.tests).toBe(2);
    expect(parsed.failures).toBe(1);
    expect(parsed.failed[0]?.message).toBe('HTTP 500 & "bad"');
  });
});

describe('dispatcher rules', () => {
  it('derives probe paths from deny rules', () => {
    expect(samplePathOfRule('^/author')).toBe('/author');
    expect(samplePathOfRule('^/admin(/|$)')).toBe('/admin');
    expect(samplePathOfRule('^/\\.')).toBe('/.slipway-probe');
    expect(samplePathOfRule('\\.php$')).toBeUndefined();
    const pkg = parseDispatcherPackage({ deny: ['^/author', '^/admin'], cache: [{ match: '^/assets/', ttlSeconds: 60 }, { match: '^/$', ttlSeconds: 0 }] });
    expect(deniedSamplePaths(pkg)).toEqual(['/author', '/admin']);
    expect(cacheTtlOf(pkg, '/assets/site.css')).toBe(60);
    expect(cacheTtlOf(pkg, '/')).toBe(0);
  });
});

describe('security heuristics', () => {
  it('finds missing headers, listings and stack traces', () => {
    expect(missingSecurityHeaders(new Headers({ 'x-content-type-options': 'nosniff', 'content-security-policy': "frame-ancestors 'none'", 'referrer-policy': 'no-referrer' }))).toEqual([]);
    expect(missingSecurityHeaders(new Headers())).toEqual(['x_content_type_options', 'content_security_policy', 'frame_options', 'referrer_policy']);
    expect(hasDirectoryListing('<html><title>Index of /assets/</title>')).toBe(true);
    expect(hasDirectoryListing('<h1>Assets</h1>')).toBe(false);
    expect(hasStackTrace('Error: boom\n    at handler (/srv/app.js:10:5)\n')).toBe(true);
    expect(hasStackTrace('java.lang.NullPointerException')).toBe(true);
    expect(hasStackTrace('<p>Page not found</p>')).toBe(false);
  });
});

describe('load metrics', () => {
  it('computes error rate, p95 and throughput against the thresholds', () => {
    const f = { requests: 990, non2xx: 0, errors: 10, timeouts: 10, durationSeconds: 10, p95Ms: 120.4, p50Ms: 5, p99Ms: 300 };
    expect(errorRate(f)).toBeCloseTo(0.01);
    const m = loadMetrics(f, DEFAULT_PIPELINE_OPTIONS);
    expect(m.map((x) => [x.kpi, x.actualValue, x.expectedValue, x.comparator, x.passed])).toEqual([
      ['error_rate', '0.0100', '0.01', 'LTE', true],
      ['response_time', '120', '500', 'LTE', true],
      ['requests_per_minute', '5940', '600', 'GTE', true],
    ]);
    expect(loadDurationSeconds({})).toBe(10);
    expect(loadDurationSeconds({ LOAD_TEST_DURATION_SECONDS: '2' })).toBe(2);
    expect(loadDurationSeconds({ LOAD_TEST_DURATION_SECONDS: '99999' })).toBe(300);
  });
});

describe('UI test opt-in and uploads', () => {
  it('reads testing.properties', () => {
    expect(isUiTestOptIn('# comment\nui-tests.version=1\n')).toBe(true);
    expect(isUiTestOptIn('ui-tests.version = 1')).toBe(true);
    expect(isUiTestOptIn('ui-tests.version=2')).toBe(false);
    expect(isUiTestOptIn('')).toBe(false);
  });
  it('extracts the file of a multipart body', () => {
    const body = Buffer.from('--XY\r\nContent-Disposition: form-data; name="file"; filename="shot.png"\r\nContent-Type: image/png\r\n\r\nPNGDATA\r\n--XY--\r\n');
    expect(firstMultipartFile(body, 'multipart/form-data; boundary=XY')).toEqual({ name: 'shot.png', data: Buffer.from('PNGDATA') });
  });
});
