// A real listening Slipway for the CLI and UI tests: temp data dir, SQLite, the real engine,
// API (buildServer) and UI, on 127.0.0.1 with an ephemeral port. The step handlers are the
// engine tests' test handlers (test/support/engine-handlers.ts) with a short pause and a few
// log lines per step, so progress is visible; approval is the shipped waiting handler. The
// contentAudit stand-in reports a fixed audit summary (built with the real audit arithmetic)
// so the UI has scores to show; the build stand-in names a fixed commit (a re-execution's builds
// nothing, so it names none). The pipeline runs no builds or deployments: these tests are
// about the CLI and the UI, not the steps.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/api/server.ts';
import { createSlipway, type Slipway } from '../../src/app.ts';
import { summarizeAudit } from '../../src/domain/audit-compare.ts';
import type { Pipeline, PipelineOptions, StepAction } from '../../src/domain/model.ts';
import type { StepContext, StepResult } from '../../src/steps/handler.ts';
import { pause, testHandlers, type Behaviour } from '../support/engine-handlers.ts';
import { seedPipeline } from '../support/seed.ts';

export interface TestServer {
  url: string;
  token: string;
  dataDir: string;
  slipway: Slipway;
  app: FastifyInstance;
  pipeline: Pipeline;
  close(): Promise<void>;
}

export const STAND_IN_COMMIT = 'c0ffee00000000000000000000000000000000aa';

function paced(action: StepAction, ms: number): Behaviour {
  return async (ctx: StepContext): Promise<StepResult> => {
    for (let i = 1; i <= 3; i++) {
      ctx.log.line(`[test] ${action}: part ${i} of 3`);
      await pause(ms / 3, ctx.signal);
    }
    const built = action === 'build' && ctx.execution.trigger !== 'RE_EXECUTE';
    return built ? { outcome: 'finished', details: { commitId: STAND_IN_COMMIT } } : { outcome: 'finished' };
  };
}

/** The audit a contentAudit stand-in reports: better accessibility than the previous run, if any. */
function auditStandIn(ms: number): Behaviour {
  return async (ctx) => {
    await pause(ms, ctx.signal);
    const previous = await ctx.previousDetails();
    const bump = previous ? 6 : 0;
    const pages = [
      { path: '/', scores: { performance: 92, accessibility: 88 + bump, 'best-practices': 96, seo: 100 }, timeMs: 1400 },
      { path: '/about.html', scores: { performance: 85, accessibility: 90 + bump, 'best-practices': 96, seo: 91 }, timeMs: 1700 },
    ];
    const prev = previous?.audit as Parameters<typeof summarizeAudit>[2];
    ctx.log.line('[test] experience audit stand-in: 2 pages');
    return { outcome: 'finished', details: { audit: summarizeAudit(pages, [], prev) } };
  };
}

export async function startTestServer(options: { stepMs?: number; pipelineOptions?: Partial<PipelineOptions> } = {}): Promise<TestServer> {
  const stepMs = options.stepMs ?? 30;
  const dataDir = mkdtempSync(join(tmpdir(), 'slipway-ui-cli-'));
  const overrides: Partial<Record<StepAction, Behaviour>> = {};
  for (const action of ['validate', 'build', 'codeQuality', 'buildImage', 'deploy', 'productTest', 'functionalTest', 'uiTest'] as const) {
    overrides[action] = paced(action, stepMs);
  }
  overrides.contentAudit = auditStandIn(stepMs);
  const slipway = await createSlipway({ dataDir }, { handlers: testHandlers(overrides), leaseMs: 10_000 });
  const pipeline = await seedPipeline(slipway, {
    options: { approval: true, uiTests: false, auditPaths: ['/', '/about.html'], ...options.pipelineOptions },
  });
  const token = 'slw_test_admin_token_0123456789';
  const app = await buildServer(slipway, { adminToken: token });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`, token, dataDir, slipway, app, pipeline,
    async close() {
      await app.close();
      await slipway.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
