// The stage-testing steps end to end on a REAL stage topology: the local driver's author and
// two publish nodes running the sample site, a Varnish dispatcher per publish node and HAProxy
// in front, deployed from OCI images of examples/sample-site.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FsArtifactStore } from '../../src/artifacts/fs-store.ts';
import { buildImage } from '../../src/artifacts/oci.ts';
import { LocalDriver } from '../../src/topology/local/local-driver.ts';
import type { Environment } from '../../src/domain/model.ts';
import { productTest } from '../../src/steps/product-test.ts';
import { functionalTest } from '../../src/steps/functional-test.ts';
import { securityTest } from '../../src/steps/security-test.ts';
import { contentAudit } from '../../src/steps/content-audit.ts';
import { loadTest } from '../../src/steps/load-test.ts';
import type { StepHandler } from '../../src/steps/handler.ts';
import type { TestStepContext } from '../support/step-context.ts';
import { STAGE_ENVIRONMENT } from '../support/static-topology.ts';
import { stageContext, type StageContextOptions } from './stage-context.ts';
import { uiTest } from '../../src/steps/ui-test.ts';

const SITE = fileURLToPath(new URL('../../examples/sample-site', import.meta.url));
const NOT_IN_APP = new Set(['node_modules', 'dist', 'reports', 'coverage', '.git', 'tests']);
const CONTRACT = {
  tests: {
    functional: { path: 'tests/functional', command: 'node run.mjs', timeoutMinutes: 2 },
    ui: { path: 'tests/ui', command: 'node run.mjs', timeoutMinutes: 2 },
  },
};

let dataDir: string;
let driver: LocalDriver;
let dispatcherImage: string;
const env: Environment = { ...STAGE_ENVIRONMENT, id: `st-e2e-${process.pid}`, settings: { publishCount: 2 } };
const contexts: TestStepContext[] = [];

async function runStep(handler: StepHandler, extra: Partial<StageContextOptions> = {}): Promise<{ ctx: TestStepContext; result: Awaited<ReturnType<StepHandler['run']>> }> {
  const ctx = await stageContext({ action: handler.action, driver, environment: env, contract: CONTRACT, options: { auditPaths: ['/', '/products.html'], auditRuns: 1 }, ...extra });
  contexts.push(ctx);
  return { ctx, result: await handler.run(ctx) };
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'slipway-stage-e2e-'));
  const store = new FsArtifactStore(dataDir);
  const app = await buildImage(store, {
    dir: SITE,
    config: { cmd: [process.execPath, 'src/server.js'] },
    exclude: (rel) => NOT_IN_APP.has(rel.split('/')[0] ?? ''),
  });
  dispatcherImage = (await buildImage(store, { dir: join(SITE, 'dispatcher') })).digest;
  driver = new LocalDriver({ dataDir, store, healthTimeoutMs: 30_000 });
  await driver.provision(env);
  const outcome = await driver.deploy(env, { version: 'e2e-1', appImage: app.digest, dispatcherImage, variables: {} }, {
    batchSize: 2, maxDrainMs: 5000, signal: new AbortController().signal, log: () => undefined, onProgress: () => undefined,
  });
  expect(outcome).toEqual({ outcome: 'deployed' });
}, 120_000);

afterAll(async () => {
  await driver?.destroy(env).catch(() => undefined);
  driver?.close();
  for (const ctx of contexts) ctx.cleanup();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('stage testing on the local topology (Varnish + HAProxy)', () => {
  it('productTest passes, including deny rules and cache headers at each dispatcher', async () => {
    const { ctx, result } = await runStep(productTest, { bundles: [{ type: 'DISPATCHER_IMAGE', dir: join(SITE, 'dispatcher') }] });
    expect(result, ctx.log.text()).toMatchObject({ outcome: 'finished' });
    expect(ctx.log.text()).toContain('PASS dispatcher-2: refuses /author');
    expect(ctx.log.text()).toContain('PASS lb: refuses /admin');
  });

  it('functionalTest passes the sample functional bundle through the load balancer', async () => {
    const { ctx, result } = await runStep(functionalTest, { bundles: [{ type: 'FUNCTIONAL_TESTS', dir: join(SITE, 'tests', 'functional') }] });
    expect(result, ctx.log.text()).toMatchObject({ outcome: 'finished' });
  });

  it('uiTest drives Chromium through chromedriver against the load balancer', async () => {
    const { ctx, result } = await runStep(uiTest, { bundles: [{ type: 'UI_TESTS', dir: join(SITE, 'tests', 'ui') }] });
    expect(result, ctx.log.text()).toMatchObject({ outcome: 'finished' });
    expect(ctx.recorded.filter((a) => a.type === 'UI_TEST_SCREENSHOT').length).toBeGreaterThan(0);
  }, 60_000);

  it('securityTest finds nothing to hold the pipeline for', async () => {
    const { ctx, result } = await runStep(securityTest);
    expect(result, ctx.log.text()).toMatchObject({ outcome: 'finished' });
  });

  it('loadTest stays within the default thresholds', async () => {
    const { ctx, result } = await runStep(loadTest, { variables: { LOAD_TEST_DURATION_SECONDS: '2' } });
    expect(result.outcome, ctx.log.text()).not.toBe('failed');
    expect(ctx.log.text()).toMatch(/latency p50 [\d.]+ ms, p95/);
    expect(result.outcome === 'finished' || result.outcome === 'waiting' ? result.metrics?.length : 0).toBe(3);
  });

  it('contentAudit scores the pages through the load balancer', async () => {
    const { ctx, result } = await runStep(contentAudit, { options: { auditPaths: ['/'], auditRuns: 1 } });
    expect(result.outcome, ctx.log.text()).toBe('finished');
    expect(result.outcome === 'finished' ? result.metrics?.map((m) => m.kpi) : [], ctx.log.text()).toEqual(['performance', 'accessibility', 'best-practices', 'seo']);
  }, 60_000);
});
