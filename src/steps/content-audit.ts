// Experience Audit (Cloud Manager §10.2): Lighthouse scores of the configured pages of stage,
// fetched THROUGH THE LOAD BALANCER as visitors get them. N runs per page, the median per page,
// the median over pages per category, the change against the pipeline's previous audit. Never
// blocks: the metrics are informational and the step finishes even when Lighthouse fails.
//
// Page paths: the pipeline's auditPaths (Cloud Manager's configuration) come first; the
// repository contract's audit.paths EXTEND them (union, in that order), capped at 25 pages.
import { join } from 'node:path';
import type { StepContext, StepHandler, StepResult } from './handler.ts';
import type { Metric } from '../domain/model.ts';
import {
  AUDIT_CATEGORIES, median, medianScores, previousAudit, summarizeAudit,
  type AuditSummary, type CategoryScores, type PageAudit, type UnreachablePath,
} from '../domain/audit-compare.ts';
import { loadContract } from './testing/execution-inputs.ts';
import { describeStage } from './testing/targets.ts';
import { probe, urlOf } from './testing/http-probe.ts';
import { runLighthouse, type RunOutcome } from './testing/lighthouse-runner.ts';
import { ARTIFACT_TYPES } from '../artifacts/artifact-types.ts';

export const MAX_AUDIT_PAGES = 25;
export const MAX_AUDIT_RUNS = 10;
/** Cloud Manager shows the scores against 80 (experienceaudit-metrics.json), informational only. */
export const AUDIT_EXPECTED_SCORE = 80;

export function auditPaths(optionPaths: readonly string[], contractPaths: readonly string[] | undefined): string[] {
  const all = [...optionPaths, ...(contractPaths ?? [])].filter((p) => p.startsWith('/'));
  const unique = [...new Set(all)];
  return (unique.length > 0 ? unique : ['/']).slice(0, MAX_AUDIT_PAGES);
}

export function auditMetrics(categories: CategoryScores): Metric[] {
  return AUDIT_CATEGORIES.filter((c) => categories[c] !== undefined).map((c) => ({
    kpi: c,
    severity: 'informational',
    passed: (categories[c] ?? 0) >= AUDIT_EXPECTED_SCORE,
    override: false,
    actualValue: String(categories[c]),
    expectedValue: String(AUDIT_EXPECTED_SCORE),
    comparator: 'GTE',
  }));
}

/** Why a path cannot be audited (non-2xx answer to a plain GET), or undefined when it can. */
async function unreachableReason(url: string, signal: AbortSignal): Promise<string | undefined> {
  const r = await probe(url, { signal, maxBody: 0, timeoutMs: 15_000 });
  if (r.ok) return undefined;
  if (r.status === 0) return `no answer (${r.error ?? 'error'})`;
  if (r.status >= 300 && r.status < 400) return `redirect (${r.status}) to ${r.headers.get('location') ?? '?'}`;
  if (r.status === 401 || r.status === 403) return `blocked (${r.status})`;
  return String(r.status);
}

function slug(path: string): string {
  return path === '/' ? 'home' : path.replace(/^\/+/, '').replace(/[^\w.-]+/g, '_').slice(0, 80);
}

async function pageResult(ctx: StepContext, path: string, runs: RunOutcome[]): Promise<PageAudit | UnreachablePath> {
  const scores: CategoryScores[] = [];
  const times: number[] = [];
  let lastError = '';
  for (const [index, result] of runs.entries()) {
    const run = index + 1;
    if ('error' in result) {
      lastError = result.error;
      ctx.log.line(`  ${path} run ${run}: Lighthouse failed: ${result.error}`);
      continue;
    }
    const blob = await ctx.artifacts.putBytes(result.json);
    await ctx.recordArtifact({ ...blob, type: ARTIFACT_TYPES.CONTENT_AUDIT_REPORT, name: `lighthouse-${slug(path)}-${run}.json` });
    if (result.runtimeError) {
      lastError = result.runtimeError;
      ctx.log.line(`  ${path} run ${run}: Lighthouse could not audit the page: ${result.runtimeError}`);
      continue;
    }
    scores.push(result.scores);
    times.push(result.timeMs);
    ctx.log.line(`  ${path} run ${run}: ${AUDIT_CATEGORIES.map((c) => `${c} ${result.scores[c] ?? '-'}`).join(', ')} (${(result.timeMs / 1000).toFixed(1)} s)`);
  }
  if (scores.length === 0) return { path, reason: lastError || 'no Lighthouse result' };
  return { path, scores: medianScores(scores), timeMs: Math.round(median(times) ?? 0) };
}

interface AuditOutcome { pages: PageAudit[]; unreachable: UnreachablePath[]; error?: string }

async function auditAll(ctx: StepContext, lbUrl: string, paths: string[], runs: number): Promise<AuditOutcome> {
  const pages: PageAudit[] = [];
  const unreachable: UnreachablePath[] = [];
  const reachable: string[] = [];
  for (const path of paths) {
    const reason = await unreachableReason(urlOf(lbUrl, path), ctx.signal);
    if (reason) { unreachable.push({ path, reason }); ctx.log.line(`unreachable: ${path} (${reason}); skipped`); } else reachable.push(path);
  }
  if (reachable.length === 0) return { pages, unreachable };
  ctx.log.line(`auditing ${reachable.join(', ')} (${runs} run${runs === 1 ? '' : 's'} each)`);
  const result = await runLighthouse({
    urls: reachable.map((path) => urlOf(lbUrl, path)),
    runs,
    workDir: join(ctx.workDir, `audit-${Date.now()}`),
    hostPorts: [Number(new URL(lbUrl).port)],
    hidePaths: [ctx.dataDir],
    signal: ctx.signal,
    onOutput: (chunk) => ctx.log.write(chunk),
    log: (line) => ctx.log.line(line),
  });
  if (result.cancelled) throw new Error('cancelled');
  for (const [i, path] of reachable.entries()) {
    const page = await pageResult(ctx, path, result.runs[i] ?? []);
    if ('scores' in page) pages.push(page); else unreachable.push(page);
  }
  return { pages, unreachable, ...(result.error ? { error: result.error } : {}) };
}

function logSummary(ctx: StepContext, summary: AuditSummary): void {
  for (const c of AUDIT_CATEGORIES) ctx.log.line(`${c}: ${summary.categories[c] ?? 'n/a'} (${summary.changes[c]})`);
  if (summary.unreachable.length > 0) ctx.log.line(`unreachable paths: ${summary.unreachable.map((u) => `${u.path} (${u.reason})`).join(', ')}`);
}

export const contentAudit: StepHandler = {
  action: 'contentAudit',
  idempotent: true,
  async run(ctx): Promise<StepResult> {
    const contract = await loadContract(ctx);
    const paths = auditPaths(ctx.pipeline.options.auditPaths, contract.audit?.paths);
    const runs = Math.min(MAX_AUDIT_RUNS, Math.max(1, Math.round(ctx.pipeline.options.auditRuns || 1)));
    const view = await describeStage(ctx);
    ctx.log.line(`experience audit of ${paths.length} page(s) through ${view.loadBalancer.url}`);
    let pages: PageAudit[] = [];
    let unreachable: UnreachablePath[] = [];
    let error: string | undefined;
    try {
      ({ pages, unreachable, error } = await auditAll(ctx, view.loadBalancer.url, paths, runs));
      if (error) ctx.log.line(`the audit could not complete: ${error}`);
    } catch (err) {
      if (ctx.signal.aborted) return { outcome: 'failed', reason: 'cancelled' };
      // Informational step: a broken audit is reported, never a reason to stop the pipeline.
      error = (err as Error).message;
      ctx.log.line(`the audit could not complete: ${error}`);
    }
    if (ctx.signal.aborted) return { outcome: 'failed', reason: 'cancelled' };
    const summary = summarizeAudit(pages, unreachable, previousAudit(await ctx.previousDetails()));
    logSummary(ctx, summary);
    const blob = await ctx.artifacts.putBytes(JSON.stringify(summary, null, 2));
    await ctx.recordArtifact({ ...blob, type: ARTIFACT_TYPES.CONTENT_AUDIT_RESULTS, name: 'experience-audit.json' });
    return { outcome: 'finished', metrics: auditMetrics(summary.categories), details: { audit: { ...summary, ...(error ? { error } : {}) } } };
  },
};
