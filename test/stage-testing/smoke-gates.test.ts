// productTest, securityTest and loadTest against real processes: the sample site (secure) and a
// deliberately insecure site.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { productTest } from '../../src/steps/product-test.ts';
import { securityTest } from '../../src/steps/security-test.ts';
import { loadTest } from '../../src/steps/load-test.ts';
import { SAMPLE_SERVER, startNodeServer, staticView, type RunningApp } from '../support/static-topology.ts';
import type { TestStepContext } from '../support/step-context.ts';
import { stageContext, type StageContextOptions } from './stage-context.ts';
import { parseJUnit } from '../../src/runner/reports/junit.ts';

const DISPATCHER_DIR = fileURLToPath(new URL('../../examples/sample-site/dispatcher', import.meta.url));
const INSECURE_SITE = fileURLToPath(new URL('./insecure-site.mjs', import.meta.url));

let scratch: string;
let author: RunningApp;
let publish: RunningApp;
let insecure: RunningApp;
let insecureAuthor: RunningApp;
const contexts: TestStepContext[] = [];

async function ctxFor(opts: StageContextOptions): Promise<TestStepContext> {
  const ctx = await stageContext(opts);
  contexts.push(ctx);
  return ctx;
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'slipway-gates-'));
  [author, publish, insecure, insecureAuthor] = await Promise.all([
    startNodeServer(SAMPLE_SERVER, { APP_MODE: 'author', APP_DATA_DIR: join(scratch, 'a') }),
    startNodeServer(SAMPLE_SERVER, { APP_MODE: 'publish', APP_DATA_DIR: join(scratch, 'p') }),
    startNodeServer(INSECURE_SITE, {}),
    startNodeServer(INSECURE_SITE, { ACCEPT_DEFAULT_LOGIN: '1' }),
  ]);
});

afterAll(async () => {
  await Promise.all([author, publish, insecure, insecureAuthor].map((p) => p?.stop()));
  for (const ctx of contexts) ctx.cleanup();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('productTest', () => {
  it('passes on a healthy site and writes every check to JUnit', async () => {
    const ctx = await ctxFor({
      action: 'productTest', view: staticView(author.url, publish.url),
      bundles: [{ type: 'DISPATCHER_IMAGE', dir: DISPATCHER_DIR }], options: { auditPaths: ['/', '/products.html'] },
    });
    const result = await productTest.run(ctx);
    expect(result, ctx.log.text()).toMatchObject({ outcome: 'finished' });
    const report = ctx.recorded.find((a) => a.type === 'TEST_RESULTS');
    const junit = parseJUnit((await ctx.artifacts.read(report?.digest ?? '')).toString());
    expect(junit.failures).toBe(0);
    // 4 health + 3 pages ("/", products, and the warm paths about + site.css) x (LB + dispatcher) + deny + cache.
    expect(junit.tests).toBeGreaterThan(15);
    expect(ctx.log.text()).toContain('PASS dispatcher-1: refuses /admin');
    expect(ctx.log.text()).toContain('PASS dispatcher-1: cache headers on /assets/site.css');
  });

  it('fails naming the check when a page is missing and a denied path is served', async () => {
    const ctx = await ctxFor({
      action: 'productTest', view: staticView(insecure.url, insecure.url),
      bundles: [{ type: 'DISPATCHER_IMAGE', dir: DISPATCHER_DIR }], options: { auditPaths: ['/'] },
    });
    const result = await productTest.run(ctx);
    expect(result.outcome).toBe('failed');
    const reason = result.outcome === 'failed' ? result.reason : '';
    expect(reason).toContain('/health: expected 200, got HTTP 404');
    expect(ctx.log.text()).toContain('FAIL dispatcher-1: refuses /admin');
  });
});

describe('securityTest', () => {
  it('finishes with all metrics passing on the sample site', async () => {
    const ctx = await ctxFor({ action: 'securityTest', view: staticView(author.url, publish.url) });
    const result = await securityTest.run(ctx);
    expect(result, ctx.log.text()).toMatchObject({ outcome: 'finished' });
    const metrics = result.outcome === 'finished' ? result.metrics ?? [] : [];
    expect(metrics.filter((m) => !m.passed)).toEqual([]);
    expect(metrics.map((m) => m.kpi)).toContain('default_login_accounts');
    expect(ctx.log.text()).toContain('skipped: header_strict_transport_security');
  });

  it('waits for an override when headers are missing and /admin is exposed', async () => {
    const ctx = await ctxFor({ action: 'securityTest', view: staticView(insecure.url, insecure.url) });
    const result = await securityTest.run(ctx);
    expect(result.outcome).toBe('waiting');
    const failing = (result.outcome === 'waiting' ? result.metrics ?? [] : []).filter((m) => !m.passed);
    expect(failing.map((m) => `${m.kpi}:${m.severity}:${m.actualValue}`).sort()).toEqual([
      'directory_listing:important:1', 'exposed_admin_paths:important:1',
      'header_content_security_policy:important:1', 'header_frame_options:important:1', 'header_referrer_policy:important:1',
    ]);
    expect(ctx.recorded.map((a) => a.type)).toContain('SECURITY_TEST_RESULTS');
  });

  it('fails at once when the author accepts a default password (critical)', async () => {
    const ctx = await ctxFor({ action: 'securityTest', view: staticView(insecureAuthor.url, publish.url) });
    const result = await securityTest.run(ctx);
    expect(result.outcome).toBe('failed');
    expect(result.outcome === 'failed' && result.reason).toContain('default_login_accounts');
  });
});

describe('loadTest', () => {
  it('measures the site in a second process and reports the three metrics', async () => {
    const ctx = await ctxFor({ action: 'loadTest', view: staticView(author.url, publish.url) });
    ctx.variables = { LOAD_TEST_DURATION_SECONDS: '2' };
    const result = await loadTest.run(ctx);
    expect(result, ctx.log.text()).toMatchObject({ outcome: 'finished' });
    const metrics = result.outcome === 'finished' ? result.metrics ?? [] : [];
    expect(metrics.map((m) => m.kpi)).toEqual(['error_rate', 'response_time', 'requests_per_minute']);
    expect(Number(metrics[2]?.actualValue)).toBeGreaterThan(600);
    expect(ctx.recorded.map((a) => a.type)).toEqual(['LOAD_TEST_RESULTS']);
  });

  it('waits when a threshold is missed (every request answers 404)', async () => {
    const ctx = await ctxFor({ action: 'loadTest', view: staticView(author.url, publish.url), options: { auditPaths: ['/no-such-page.html'] } });
    ctx.variables = { LOAD_TEST_DURATION_SECONDS: '1' };
    const result = await loadTest.run(ctx);
    expect(result.outcome).toBe('waiting');
    const failing = (result.outcome === 'waiting' ? result.metrics ?? [] : []).filter((m) => !m.passed);
    expect(failing.map((m) => m.kpi)).toEqual(['error_rate']);
    expect(failing[0]?.actualValue).toBe('1.0000');
  });
});
