// TEST step handlers for API and CLI tests: they reproduce the OUTCOMES of the real steps
// (validate finishes, build writes a log for ~1 s and records an artifact, codeQuality waits
// on a failing important `coverage` metric, the rest finish) in milliseconds, so the API can
// be driven through whole executions. The real steps are tested by the step tests. The
// go-live approval, schedule and managed steps use the REAL handlers (see engine-handlers.ts), and
// so does the build of a re-execution (it reuses the source's artifacts);
// with `realDeploy`, so does deploy (onto the harness's RecordingDriver), and buildImage records
// an app image for it (bytes standing in for the image: the recording driver runs nothing).
import type { Metric } from '../../src/domain/model.ts';
import type { HandlerRegistry } from '../../src/steps/handler.ts';
import { pause, testHandlers as engineTestHandlers } from './engine-handlers.ts';
import { ARTIFACT_TYPES } from '../../src/artifacts/artifact-types.ts';
import { buildHandler } from '../../src/steps/build.ts';
import { deployHandler } from '../../src/steps/deploy.ts';

export interface TestHandlerOptions {
  /** How long the build writes its log (default 1000 ms, in 10 lines). */
  buildLogMs?: number;
  /** Quality gate metrics the codeQuality step reports (default: coverage failing, important). */
  codeQualityMetrics?: Metric[];
  /** Run the real deploy handler (it hands the release to the topology driver and records the rollout). */
  realDeploy?: boolean;
}

export const FAILING_COVERAGE: Metric[] = [
  { kpi: 'coverage', severity: 'important', passed: false, override: false, actualValue: '12.5', expectedValue: '50', comparator: 'GTE' },
  { kpi: 'security_rating', severity: 'critical', passed: true, override: false, actualValue: 'A', expectedValue: 'B', comparator: 'GTE' },
  { kpi: 'open_issues', severity: 'informational', passed: false, override: false, actualValue: '3', expectedValue: '1', comparator: 'LT' },
];

export const TEST_COMMIT = 'c0ffee0000000000000000000000000000000001';

/** The outcomes of the real steps, on top of the engine tests' handlers (the rest finish at once). */
export function testHandlers(options: TestHandlerOptions = {}): HandlerRegistry {
  const buildMs = options.buildLogMs ?? 1000;
  const metrics = options.codeQualityMetrics ?? FAILING_COVERAGE;
  return engineTestHandlers({
    build: async (ctx) => {
      // A re-execution builds nothing: the real handler reuses the source's artifacts.
      if (ctx.execution.trigger === 'RE_EXECUTE') return buildHandler.run(ctx);
      for (let i = 1; i <= 10; i++) {
        ctx.log.line(`[test] build line ${i}`);
        await pause(buildMs / 10, ctx.signal);
      }
      const blob = await ctx.artifacts.putBytes(`build output of execution ${ctx.execution.id}\n`);
      await ctx.recordArtifact({ digest: blob.digest, type: ARTIFACT_TYPES.BUILD_OUTPUT, name: 'site.all-1.0.zip', size: blob.size });
      return { outcome: 'finished', details: { commitId: TEST_COMMIT } };
    },
    codeQuality: async (ctx) => {
      ctx.log.line('[test] code quality: coverage below 50%');
      const failing = metrics.some((m) => !m.passed && m.severity === 'important');
      return failing ? { outcome: 'waiting', reason: 'important metrics failed', metrics } : { outcome: 'finished', metrics };
    },
    ...(options.realDeploy ? {
      buildImage: async (ctx) => {
        const blob = await ctx.artifacts.putBytes(`app image of execution ${ctx.execution.id}\n`);
        await ctx.recordArtifact({ digest: blob.digest, type: ARTIFACT_TYPES.APP_IMAGE, name: 'app', size: blob.size });
        return { outcome: 'finished' };
      },
      deploy: (ctx) => deployHandler.run(ctx),
    } : {}),
  });
}
