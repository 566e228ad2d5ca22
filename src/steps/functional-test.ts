// Custom Functional Testing (Cloud Manager §10.3): the repository's functional test bundle runs
// against stage. Always present, never skipped: no bundle → passes. Judged by its JUnit XML.
import type { StepHandler, StepResult } from './handler.ts';
import { latestArtifact, loadContract } from './testing/execution-inputs.ts';
import { describeStage, targetEnv, targetPorts } from './testing/targets.ts';
import { runBundle, unpackBundle } from './testing/bundle-run.ts';

export const FUNCTIONAL_TESTS_ARTIFACT = 'FUNCTIONAL_TESTS';
export const DEFAULT_TEST_TIMEOUT_MINUTES = 30;

export const functionalTest: StepHandler = {
  action: 'functionalTest',
  // Tests run against stage without changing it (by contract); a re-run is a fresh run.
  idempotent: true,
  async run(ctx): Promise<StepResult> {
    const bundle = await latestArtifact(ctx, FUNCTIONAL_TESTS_ARTIFACT);
    if (!bundle) {
      ctx.log.line('no functional test bundle in this build: nothing to run');
      return { outcome: 'finished', details: { reason: 'no functional tests' } };
    }
    const contract = await loadContract(ctx);
    const spec = contract.tests.functional;
    if (!spec) {
      return { outcome: 'failed', reason: 'a functional test bundle exists but the contract has no tests.functional.command' };
    }
    const view = await describeStage(ctx);
    const dirs = await unpackBundle(ctx, bundle);
    ctx.log.line(`functional tests against publish ${view.loadBalancer.url} and author ${view.author.url}`);
    const outcome = await runBundle(ctx, {
      kind: 'functional tests',
      dirs,
      command: spec.command,
      timeoutMinutes: spec.timeoutMinutes ?? DEFAULT_TEST_TIMEOUT_MINUTES,
      env: { ...ctx.variables, ...targetEnv(view, ctx.variables) },
      hostPorts: targetPorts(view),
      resultType: 'TEST_RESULTS',
    });
    if (outcome.cancelled) return { outcome: 'failed', reason: 'cancelled' };
    const details = { tests: outcome.summary ?? null, reports: outcome.reportFiles.length };
    if (!outcome.verdict.passed) return { outcome: 'failed', reason: outcome.verdict.reason, details };
    ctx.log.line(outcome.verdict.summary);
    return { outcome: 'finished', details };
  },
};
