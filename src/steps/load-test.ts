// Load testing of stage (an optional gate): a bounded autocannon run against the load balancer
// in a second process, judged by error rate, 95th percentile response time and throughput.
import type { StepHandler, StepResult } from './handler.ts';
import { evaluateGate } from '../domain/quality-gate.ts';
import { loadContract } from './testing/execution-inputs.ts';
import { describeStage } from './testing/targets.ts';
import { runLoad } from './testing/load-runner.ts';
import { loadMetrics, errorRate, requestsPerMinute } from './testing/load-metrics.ts';
import { ARTIFACT_TYPES } from '../artifacts/artifact-types.ts';

export const DEFAULT_LOAD_SECONDS = 10;
export const MAX_LOAD_SECONDS = 300;
export const LOAD_CONNECTIONS = 10;

/** LOAD_TEST_DURATION_SECONDS from the loadTest variables, bounded to 1..300 s. */
export function loadDurationSeconds(variables: Record<string, string>): number {
  const raw = Number(variables['LOAD_TEST_DURATION_SECONDS']);
  if (!Number.isFinite(raw) || raw <= 0) return DEFAULT_LOAD_SECONDS;
  return Math.min(MAX_LOAD_SECONDS, Math.max(1, Math.round(raw)));
}

export const loadTest: StepHandler = {
  action: 'loadTest',
  idempotent: true,
  async run(ctx): Promise<StepResult> {
    const contract = await loadContract(ctx);
    const view = await describeStage(ctx);
    const paths = [...new Set([...ctx.pipeline.options.auditPaths, ...(contract.audit?.paths ?? [])])];
    const durationSeconds = loadDurationSeconds(ctx.variables);
    ctx.log.line(`load test: ${LOAD_CONNECTIONS} connections for ${durationSeconds} s against ${view.loadBalancer.url} (${paths.join(' ') || '/'})`);
    let figures;
    try {
      figures = await runLoad({ url: view.loadBalancer.url, paths: paths.length > 0 ? paths : ['/'], durationSeconds, connections: LOAD_CONNECTIONS, signal: ctx.signal });
    } catch (err) {
      if (ctx.signal.aborted) return { outcome: 'failed', reason: 'cancelled' };
      return { outcome: 'failed', reason: `load test could not run: ${(err as Error).message}` };
    }
    const blob = await ctx.artifacts.putBytes(JSON.stringify(figures, null, 2));
    await ctx.recordArtifact({ ...blob, type: ARTIFACT_TYPES.LOAD_TEST_RESULTS, name: 'load-test.json' });
    ctx.log.line(`${figures.requests} responses (${figures.non2xx} non-2xx, ${figures.errors} errors, ${figures.timeouts} timeouts) in ${figures.durationSeconds} s`);
    ctx.log.line(`latency p50 ${figures.p50Ms} ms, p95 ${figures.p95Ms} ms, p99 ${figures.p99Ms} ms; ${Math.round(requestsPerMinute(figures))} requests/min; error rate ${(errorRate(figures) * 100).toFixed(2)} %`);
    const metrics = loadMetrics(figures, ctx.pipeline.options);
    const details = { load: { ...figures, durationSeconds } };
    const gate = evaluateGate(metrics, ctx.pipeline.options.importantMetrics);
    if (gate.outcome === 'finished') return { outcome: 'finished', metrics, details };
    return { outcome: gate.outcome, reason: gate.reason, metrics, details };
  },
};
