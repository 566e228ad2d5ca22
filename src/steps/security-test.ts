// Security testing of stage (an optional gate, like code quality): headers, exposed admin and
// internal paths, default credentials, directory listings, verbose errors. Critical findings
// fail the step, important ones wait for an override (pipeline option), the rest is recorded.
import type { StepHandler, StepResult } from './handler.ts';
import { evaluateGate } from '../domain/quality-gate.ts';
import { loadContract } from './testing/execution-inputs.ts';
import { describeStage } from './testing/targets.ts';
import { runSecurityChecks } from './testing/security-checks.ts';
import { ARTIFACT_TYPES } from '../artifacts/artifact-types.ts';

export const securityTest: StepHandler = {
  action: 'securityTest',
  idempotent: true,
  async run(ctx): Promise<StepResult> {
    const contract = await loadContract(ctx);
    const view = await describeStage(ctx);
    const pages = [...new Set([...ctx.pipeline.options.auditPaths, ...(contract.audit?.paths ?? []), '/'])];
    ctx.log.line(`security checks of ${view.loadBalancer.url} (pages ${pages.join(' ')}) and author ${view.author.url}`);
    const report = await runSecurityChecks(view, { pages, signal: ctx.signal });
    if (ctx.signal.aborted) return { outcome: 'failed', reason: 'cancelled' };
    for (const s of report.skipped) ctx.log.line(`skipped: ${s}`);
    for (const m of report.metrics) ctx.log.line(`${m.passed ? 'PASS' : 'FAIL'} ${m.kpi} (${m.severity}): ${m.actualValue} finding(s)`);
    for (const f of report.findings) ctx.log.line(`  ${f.kpi}: ${f.url.length > 120 ? `${f.url.slice(0, 117)}...` : f.url} — ${f.detail}`);
    const blob = await ctx.artifacts.putBytes(JSON.stringify(report, null, 2));
    await ctx.recordArtifact({ ...blob, type: ARTIFACT_TYPES.SECURITY_TEST_RESULTS, name: 'security-test.json' });
    const details = { security: { findings: report.findings.length, skipped: report.skipped } };
    const gate = evaluateGate(report.metrics, ctx.pipeline.options.importantMetrics);
    if (gate.outcome === 'finished') return { outcome: 'finished', metrics: report.metrics, details };
    return { outcome: gate.outcome, reason: gate.reason, metrics: report.metrics, details };
  },
};
