// Product Functional Testing: Slipway's own smoke suite of the stage topology. The results are
// written as JUnit XML (stored as TEST_RESULTS); any failed check fails the step.
import type { StepContext, StepHandler, StepResult } from './handler.ts';
import { loadContract } from './testing/execution-inputs.ts';
import { describeStage } from './testing/targets.ts';
import { loadDispatcherPackage } from './testing/dispatcher-rules.ts';
import { runProductChecks } from './testing/product-checks.ts';
import { toJUnitXml } from './testing/junit-writer.ts';
import type { DispatcherPackage } from '../domain/contract.ts';
import { ARTIFACT_TYPES } from '../artifacts/artifact-types.ts';

/** The site's pages: the audit paths (pipeline and contract) and the dispatcher's warm paths. */
export function productTestPages(optionPaths: readonly string[], contractPaths: readonly string[] | undefined, warm: readonly string[] | undefined): string[] {
  const all = [...optionPaths, ...(contractPaths ?? []), ...(warm ?? [])];
  return [...new Set(all.length > 0 ? all : ['/'])];
}

async function dispatcherPackageOf(ctx: StepContext): Promise<DispatcherPackage | undefined> {
  try {
    return await loadDispatcherPackage(ctx);
  } catch (err) {
    ctx.log.line(`warning: dispatcher package unreadable, skipping deny and cache checks: ${(err as Error).message}`);
    return undefined;
  }
}

export const productTest: StepHandler = {
  action: 'productTest',
  idempotent: true,
  async run(ctx): Promise<StepResult> {
    const contract = await loadContract(ctx);
    const dispatcher = await dispatcherPackageOf(ctx);
    const view = await describeStage(ctx);
    const pages = productTestPages(ctx.pipeline.options.auditPaths, contract.audit?.paths, dispatcher?.warm);
    ctx.log.line(`product tests of ${view.environmentId}: ${view.publish.length} publish, ${view.dispatchers.length} dispatchers, pages ${pages.join(' ')}`);
    const checks = await runProductChecks(view, { healthPath: contract.app.health, pages, ...(dispatcher ? { dispatcher } : {}) }, ctx.signal);
    if (ctx.signal.aborted) return { outcome: 'failed', reason: 'cancelled' };
    for (const c of checks) ctx.log.line(`${c.passed ? 'PASS' : 'FAIL'} ${c.group}: ${c.name}${c.message ? ` — ${c.message}` : ''}`);
    const blob = await ctx.artifacts.putBytes(toJUnitXml('slipway.product', checks, ctx.now()));
    await ctx.recordArtifact({ ...blob, type: ARTIFACT_TYPES.TEST_RESULTS, name: 'product-tests.xml' });
    const failed = checks.filter((c) => !c.passed);
    const details = { productTests: { total: checks.length, failed: failed.length } };
    if (failed.length > 0) {
      const listed = failed.slice(0, 5).map((c) => c.message ?? c.name).join('; ');
      return { outcome: 'failed', reason: `${failed.length} of ${checks.length} product checks failed: ${listed}${failed.length > 5 ? '; …' : ''}`, details };
    }
    return { outcome: 'finished', details };
  },
};
