// The codeQuality handler end to end: a real SOURCE image in a real artifact store, real report
// artifacts, the real scan; only the engine around it is the test context.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildImage } from '../../src/artifacts/oci.ts';
import type { ImportantMetricsBehavior, Metric } from '../../src/domain/model.ts';
import type { ScanIssue } from '../../src/domain/issues.ts';
import { ARTIFACT_TYPES } from '../../src/artifacts/artifact-types.ts';
import { codeQualityHandler } from '../../src/steps/code-quality.ts';
import type { ExecutionArtifact, StepResult } from '../../src/steps/handler.ts';
import { makeStepContext, type TestStepContext } from '../support/step-context.ts';

const cleanups: (() => void)[] = [];
afterEach(() => { while (cleanups.length > 0) cleanups.pop()?.(); });

const GOOD_LCOV = 'SF:src/app.js\nDA:1,1\nDA:2,1\nDA:3,1\nDA:4,1\nBRDA:2,0,0,1\nBRDA:2,0,1,1\nend_of_record\n';
const LOW_LCOV = 'SF:src/app.js\nDA:1,1\nDA:2,0\nDA:3,0\nDA:4,0\nend_of_record\n';
const JUNIT = '<testsuites><testsuite name="app"><testcase name="a"/><testcase name="b"><skipped/></testcase></testsuite></testsuites>';

interface Setup {
  files: Record<string, string>;
  reports?: { type: string; name: string; content: string }[];
  behavior?: ImportantMetricsBehavior;
  contract?: unknown;
}

async function setUp({ files, reports = [], behavior = 'ask', contract }: Setup): Promise<TestStepContext> {
  const src = mkdtempSync(join(tmpdir(), 'slipway-cq-src-'));
  cleanups.push(() => rmSync(src, { recursive: true, force: true }));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(src, name)), { recursive: true });
    writeFileSync(join(src, name), content);
  }
  const probe = makeStepContext();
  const prior: ExecutionArtifact[] = [];
  const image = await buildImage(probe.artifacts, { dir: src });
  prior.push({ digest: image.digest, type: 'SOURCE', name: 'source', size: image.size, stepId: 'build' });
  for (const report of reports) {
    const blob = await probe.artifacts.putBytes(report.content);
    prior.push({ ...blob, type: report.type, name: report.name, stepId: 'build' });
  }
  if (contract !== undefined) {
    const blob = await probe.artifacts.putBytes(JSON.stringify(contract));
    prior.push({ ...blob, type: 'CONTRACT', name: 'slipway.yaml', size: blob.size, stepId: 'build' });
  }
  const ctx = makeStepContext({ dataDir: probe.dataDir, artifacts: probe.artifacts, priorArtifacts: prior });
  cleanups.push(() => probe.cleanup());
  ctx.pipeline.options.importantMetrics = behavior;
  return ctx;
}

function metricOf(result: StepResult, kpi: string): Metric | undefined {
  return 'metrics' in result ? result.metrics?.find((m) => m.kpi === kpi) : undefined;
}

const CLEAN_APP = {
  'src/app.js': 'export function add(a, b) {\n  return a + b;\n}\nexport const zero = 0;\n',
  'package.json': '{"name":"app","type":"module"}',
};

describe('codeQualityHandler', () => {
  it('is the idempotent codeQuality handler', () => {
    expect(codeQualityHandler).toMatchObject({ action: 'codeQuality', idempotent: true });
  });

  it('passes a clean, covered project and records the issue list', async () => {
    const ctx = await setUp({
      files: CLEAN_APP,
      reports: [
        { type: 'COVERAGE', name: 'lcov.info', content: GOOD_LCOV },
        { type: 'TEST_RESULTS', name: 'junit.xml', content: JUNIT },
      ],
    });
    const result = await codeQualityHandler.run(ctx);
    expect(result.outcome).toBe('finished');
    expect(metricOf(result, 'security_rating')).toMatchObject({ actualValue: 'A', passed: true });
    expect(metricOf(result, 'coverage')).toMatchObject({ actualValue: '100.0', passed: true });
    expect(metricOf(result, 'skipped_tests')).toMatchObject({ actualValue: '1', passed: true });
    expect(result.details?.['scan']).toMatchObject({ files: 1, linesOfCode: 4, tests: { tests: 2, skipped: 1 } });

    const recorded = ctx.recorded.filter((a) => a.type === ARTIFACT_TYPES.SCAN_ISSUES);
    expect(recorded).toHaveLength(1);
    const issues = JSON.parse((await ctx.artifacts.read(recorded[0]?.digest ?? '')).toString()) as ScanIssue[];
    expect(Array.isArray(issues)).toBe(true);
    expect(ctx.log.text()).toContain('Quality gate passed');

    // Run again (idempotent): same outcome, the artifact is not recorded twice.
    const again = await codeQualityHandler.run(ctx);
    expect(again.outcome).toBe('finished');
    expect(ctx.recorded.filter((a) => a.type === ARTIFACT_TYPES.SCAN_ISSUES)).toHaveLength(1);
  });

  it('fails on eval and command injection (critical security rating)', async () => {
    const ctx = await setUp({
      files: {
        'src/server.js': "const cp = require('child_process');\nfunction handle(req) {\n  const userInput = req.query.code;\n  eval(userInput);\n  cp.exec(req.query.cmd);\n}\nmodule.exports = { handle };\n",
      },
      reports: [{ type: 'COVERAGE', name: 'lcov.info', content: GOOD_LCOV }],
      behavior: 'continue',
    });
    const result = await codeQualityHandler.run(ctx);
    expect(result.outcome).toBe('failed');
    expect(['D', 'E']).toContain(metricOf(result, 'security_rating')?.actualValue);
    expect(result.outcome === 'failed' && result.reason).toContain('security_rating');
    const recorded = ctx.recorded.find((a) => a.type === ARTIFACT_TYPES.SCAN_ISSUES);
    const issues = JSON.parse((await ctx.artifacts.read(recorded?.digest ?? '')).toString()) as ScanIssue[];
    expect(issues).toEqual(expect.arrayContaining([
      expect.objectContaining({ file: 'src/server.js', line: 4, type: 'VULNERABILITY' }),
      expect.objectContaining({ file: 'src/server.js', line: 5, type: 'VULNERABILITY' }),
    ]));
    expect(ctx.log.text()).toMatch(/VULNERABILITY (critical|blocker) src\/server.js:4/);
  });

  it.each([
    ['ask', 'waiting'],
    ['fail', 'failed'],
    ['continue', 'finished'],
  ] as const)('low coverage with importantMetrics=%s → %s', async (behavior, outcome) => {
    const ctx = await setUp({ files: CLEAN_APP, reports: [{ type: 'COVERAGE', name: 'lcov.info', content: LOW_LCOV }], behavior });
    const result = await codeQualityHandler.run(ctx);
    expect(result.outcome).toBe(outcome);
    expect(metricOf(result, 'coverage')).toMatchObject({ actualValue: '25.0', passed: false, severity: 'important' });
  });

  it('takes SARIF findings into account and skips a malformed report with a warning', async () => {
    const sarif = JSON.stringify({
      version: '2.1.0',
      runs: [{ tool: { driver: { name: 'x', rules: [{ id: 'sqli', properties: { tags: ['security'], 'security-severity': '9.1' } }] } },
        results: [{ ruleId: 'sqli', message: { text: 'SQL injection' }, locations: [{ physicalLocation: { artifactLocation: { uri: 'src/app.js' }, region: { startLine: 2 } } }] }] }],
    });
    const ctx = await setUp({
      files: CLEAN_APP,
      reports: [
        { type: 'COVERAGE', name: 'lcov.info', content: GOOD_LCOV },
        { type: 'COVERAGE', name: 'cobertura.xml', content: '<coverage><broken>' },
        { type: 'SARIF', name: 'codeql.sarif', content: sarif },
      ],
    });
    const result = await codeQualityHandler.run(ctx);
    expect(result.outcome).toBe('failed');
    expect(metricOf(result, 'security_rating')?.actualValue).toBe('E');
    expect(ctx.log.text()).toContain('cobertura.xml');
    expect(result.details?.['scan']).toMatchObject({ sarifIssues: 1, reportErrors: [expect.stringContaining('cobertura.xml')] });
  });

  it("scans only the contract's sources and counts missing coverage as 0 %", async () => {
    const ctx = await setUp({
      files: { ...CLEAN_APP, 'lib/evil.js': 'eval(process.argv[2]);\n' },
      contract: { sources: ['src/**/*.js'] },
    });
    const result = await codeQualityHandler.run(ctx);
    expect(metricOf(result, 'security_rating')?.actualValue).toBe('A');
    expect(metricOf(result, 'coverage')).toMatchObject({ actualValue: '0.0', passed: false });
    expect(result.outcome).toBe('waiting');
  });

  it('fails clearly without a SOURCE artifact', async () => {
    const ctx = makeStepContext();
    cleanups.push(() => ctx.cleanup());
    const result = await codeQualityHandler.run(ctx);
    expect(result).toMatchObject({ outcome: 'failed', reason: expect.stringContaining('SOURCE') });
  });
});
