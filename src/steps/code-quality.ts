// The codeQuality step: scans the sources the build checked out (the SOURCE image), reads the
// build's reports (JUnit, coverage, SARIF), computes Cloud Manager's code-quality metrics and
// applies the gate: a critical failure fails the step, an important one waits for an override
// (or fails, or is let through, per the pipeline's importantMetrics option).
// Idempotent: it only reads artifacts and writes content-addressed ones.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { unpackImage } from '../artifacts/oci.ts';
import { parseContract, type RepositoryContract } from '../domain/contract.ts';
import type { ScanIssue } from '../domain/issues.ts';
import { evaluateGate } from '../domain/quality-gate.ts';
import { emptyCoverage, mergeCoverage, parseCoverage, type CoverageSummary } from '../runner/reports/coverage.ts';
import { addJUnitSummaries, emptyJUnitSummary, parseJUnit, type JUnitSummary } from '../runner/reports/junit.ts';
import { asReportError } from '../runner/reports/report-error.ts';
import { parseSarif } from '../runner/reports/sarif.ts';
import type { ExecutionArtifact, StepContext, StepHandler, StepResult } from './handler.ts';
import { assessCodeQuality } from './scan/assess.ts';
import { scanSources } from './scan/scan-sources.ts';
import { ARTIFACT_TYPES } from '../artifacts/artifact-types.ts';

export const SCAN_ISSUES_NAME = 'scan-issues.json';

interface BuildReports {
  tests: JUnitSummary;
  coverage: CoverageSummary;
  sarifIssues: ScanIssue[];
  /** Reports that could not be read: logged and left out, never a crash. */
  reportErrors: string[];
}

async function readContract(ctx: StepContext, artifacts: ExecutionArtifact[]): Promise<RepositoryContract> {
  const artifact = artifacts.find((a) => a.type === 'CONTRACT');
  if (!artifact) return parseContract({});
  return parseContract(JSON.parse((await ctx.artifacts.read(artifact.digest)).toString('utf8')), artifact.name);
}

async function readReports(ctx: StepContext, artifacts: ExecutionArtifact[]): Promise<BuildReports> {
  const reports: BuildReports = { tests: emptyJUnitSummary(), coverage: emptyCoverage(), sarifIssues: [], reportErrors: [] };
  for (const artifact of artifacts) {
    if (!['TEST_RESULTS', 'COVERAGE', 'SARIF'].includes(artifact.type)) continue;
    try {
      const content = (await ctx.artifacts.read(artifact.digest)).toString('utf8');
      if (artifact.type === 'TEST_RESULTS') reports.tests = addJUnitSummaries(reports.tests, parseJUnit(content, artifact.name));
      else if (artifact.type === 'COVERAGE') reports.coverage = mergeCoverage(reports.coverage, parseCoverage(content, artifact.name));
      else reports.sarifIssues.push(...parseSarif(content, artifact.name));
    } catch (error) {
      const message = asReportError(artifact.name, error).message;
      reports.reportErrors.push(message);
      ctx.log.line(`warning: ${artifact.type} report skipped: ${message}`);
    }
  }
  return reports;
}

/** Writes the issue list once per content (re-runs record the same digest only once). */
async function storeIssues(ctx: StepContext, issues: ScanIssue[], artifacts: ExecutionArtifact[]): Promise<string> {
  const blob = await ctx.artifacts.putBytes(`${JSON.stringify(issues, null, 2)}\n`);
  const already = artifacts.some((a) => a.type === ARTIFACT_TYPES.SCAN_ISSUES && a.digest === blob.digest && a.stepId === ctx.step.id);
  if (!already) await ctx.recordArtifact({ digest: blob.digest, type: ARTIFACT_TYPES.SCAN_ISSUES, name: SCAN_ISSUES_NAME, size: blob.size });
  return blob.digest;
}

function checkAborted(ctx: StepContext): void {
  if (ctx.signal.aborted) throw new Error('code quality scan cancelled');
}

async function run(ctx: StepContext): Promise<StepResult> {
  const artifacts = await ctx.executionArtifacts();
  const source = artifacts.find((a) => a.type === 'SOURCE');
  if (!source) return { outcome: 'failed', reason: 'No SOURCE artifact: the build step did not record the checked-out sources' };
  const contract = await readContract(ctx, artifacts);

  const sourceDir = join(ctx.workDir, 'code-quality-source');
  await rm(sourceDir, { recursive: true, force: true });
  let scan;
  try {
    await unpackImage(ctx.artifacts, source.digest, sourceDir);
    checkAborted(ctx);
    ctx.log.line(`Scanning sources matching ${contract.sources.join(', ')}`);
    scan = await scanSources(sourceDir, contract.sources);
  } finally {
    await rm(sourceDir, { recursive: true, force: true });
  }
  checkAborted(ctx);
  if (scan.files.length === 0) ctx.log.line('warning: no source files matched the contract\'s `sources` globs');
  for (const file of scan.skippedLargeFiles) ctx.log.line(`warning: ${file} skipped (larger than 1 MiB, likely generated)`);
  for (const e of scan.parseErrors) ctx.log.line(`warning: ${e.file}:${e.line}: could not parse: ${e.message}`);

  const reports = await readReports(ctx, artifacts);
  const assessment = assessCodeQuality({
    issues: [...scan.issues, ...reports.sarifIssues],
    linesOfCode: scan.linesOfCode,
    coveragePercent: reports.coverage.coverage,
    skippedTests: reports.tests.skipped,
    duplicatedLinesDensity: scan.duplication.density,
  });
  const issuesDigest = await storeIssues(ctx, assessment.issues, artifacts);

  const count = (type: ScanIssue['type']): number => assessment.issues.filter((i) => i.type === type).length;
  const summary = {
    files: scan.files.length,
    linesOfCode: scan.linesOfCode,
    lines: scan.physicalLines,
    issues: assessment.issues.length,
    vulnerabilities: count('VULNERABILITY'),
    bugs: count('BUG'),
    codeSmells: count('CODE_SMELL'),
    debtMinutes: assessment.debtMinutes,
    debtRatioPercent: Math.round(assessment.debtRatio * 1000) / 10,
    duplicatedLines: scan.duplication.duplicatedLines,
    duplicatedBlocks: scan.duplication.blocks.length,
    coverage: reports.coverage,
    tests: { tests: reports.tests.tests, failures: reports.tests.failures, errors: reports.tests.errors, skipped: reports.tests.skipped },
    sarifIssues: reports.sarifIssues.length,
    parseErrors: scan.parseErrors.length,
    reportErrors: reports.reportErrors,
    issuesArtifact: issuesDigest,
  };

  ctx.log.line(`Scanned ${summary.files} files, ${summary.linesOfCode} lines of code`);
  ctx.log.line(`Issues: ${summary.issues} (${summary.vulnerabilities} vulnerabilities, ${summary.bugs} bugs, ${summary.codeSmells} code smells)`);
  for (const issue of assessment.issues.filter((i) => i.type !== 'CODE_SMELL' && i.severity !== 'info')) {
    ctx.log.line(`  ${issue.type} ${issue.severity} ${issue.file}:${issue.line} ${issue.rule}: ${issue.message}`);
  }
  ctx.log.line(`Coverage ${reports.coverage.coverage.toFixed(1)}% (lines ${reports.coverage.linesHit}/${reports.coverage.linesFound}, branches ${reports.coverage.branchesHit}/${reports.coverage.branchesFound})`);
  ctx.log.line(`Duplicated lines ${scan.duplication.density.toFixed(1)}%, technical debt ${assessment.debtMinutes} min (${summary.debtRatioPercent}%)`);
  for (const m of assessment.metrics) {
    ctx.log.line(`  ${m.passed ? 'PASS' : 'FAIL'} ${m.severity} ${m.kpi} ${m.actualValue} (expected ${m.comparator} ${m.expectedValue})`);
  }

  const decision = evaluateGate(assessment.metrics, ctx.pipeline.options.importantMetrics);
  ctx.log.line(decision.outcome === 'finished' ? 'Quality gate passed' : `Quality gate: ${decision.reason}`);
  await ctx.log.flush();
  return { ...decision, metrics: assessment.metrics, details: { scan: summary } };
}

export const codeQualityHandler: StepHandler = { action: 'codeQuality', idempotent: true, run };
