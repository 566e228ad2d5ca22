// Lighthouse accessibility of Slipway's own UI pages (one run each): the execution screen of a
// finished execution (with its audit), the pipelines list, the sign-in page, the new-pipeline
// form and the members page.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as chromeLauncher from 'chrome-launcher';
import lighthouse from 'lighthouse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advanceStep, startExecution } from '../../src/engine/commands.ts';
import { getExecution } from '../../src/store/executions.ts';
import { eventually } from '../support/slipway.ts';
import { startTestServer, type TestServer } from '../cli/harness.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium.ts';

let server: TestServer;
let chrome: chromeLauncher.LaunchedChrome | undefined;
let profile: string;
let executionId: string;

beforeAll(async () => {
  server = await startTestServer({ stepMs: 10 });
  const { rt } = server.slipway;
  const execution = await startExecution(rt, server.pipeline, { user: 'admin' });
  executionId = execution.id;
  const approval = await eventually(async () => (await getExecution(rt.db.kysely, executionId))?.steps
    .find((s) => s.action === 'approval' && s.status === 'WAITING'), 30_000);
  await advanceStep(rt, approval.id, { approved: true }, 'admin');
  await eventually(async () => (await getExecution(rt.db.kysely, executionId))?.status === 'FINISHED', 30_000);
  profile = mkdtempSync(join(tmpdir(), 'slipway-lh-'));
  chrome = await chromeLauncher.launch({
    chromePath: CHROMIUM_PATH,
    chromeFlags: [...CHROMIUM_ARGS, '--headless', '--disable-quic'],
    userDataDir: profile,
    logLevel: 'silent',
  });
});

afterAll(async () => {
  chrome?.kill();
  await server?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

async function accessibility(url: string): Promise<{ score: number; failing: string[] }> {
  const result = await lighthouse(url, { port: chrome?.port, output: 'json', logLevel: 'error', onlyCategories: ['accessibility'] });
  if (!result) throw new Error('no Lighthouse result');
  const category = result.lhr.categories.accessibility;
  const failing = (category?.auditRefs ?? [])
    .map((ref) => result.lhr.audits[ref.id])
    .filter((a) => a && a.score !== null && a.score < 1 && a.scoreDisplayMode === 'binary')
    .map((a) => a?.id ?? '');
  return { score: Math.round((category?.score ?? 0) * 100), failing };
}

describe('Lighthouse accessibility of the UI', () => {
  it('the execution screen scores at least 90', async () => {
    const to = `/program/${server.pipeline.programId}/pipeline/${server.pipeline.id}/execution/${executionId}`;
    const { score, failing } = await accessibility(`${server.url}/ui/#token=${encodeURIComponent(server.token)}&to=${encodeURIComponent(to)}`);
    console.log(`accessibility: execution screen ${score} (${failing.join(', ') || 'all pass'})`);
    expect(score, `failing audits: ${failing.join(', ')}`).toBeGreaterThanOrEqual(90);
  }, 120_000);

  it('the pipelines screen and the sign-in page score at least 90', async () => {
    const to = `/program/${server.pipeline.programId}`;
    const pipelines = await accessibility(`${server.url}/ui/#token=${encodeURIComponent(server.token)}&to=${encodeURIComponent(to)}`);
    expect(pipelines.score, `failing audits: ${pipelines.failing.join(', ')}`).toBeGreaterThanOrEqual(90);
    const signIn = await accessibility(`${server.url}/ui/`);
    expect(signIn.score, `failing audits: ${signIn.failing.join(', ')}`).toBeGreaterThanOrEqual(90);
    console.log(`accessibility: pipelines ${pipelines.score} (${pipelines.failing.join(', ') || 'all pass'}), sign-in ${signIn.score}`);
  }, 120_000);
  it('the new-pipeline form and the members page score at least 90', async () => {
    const at = (to: string) => `${server.url}/ui/#token=${encodeURIComponent(server.token)}&to=${encodeURIComponent(to)}`;
    const form = await accessibility(at(`/program/${server.pipeline.programId}/pipelines/new`));
    const members = await accessibility(at(`/program/${server.pipeline.programId}/members`));
    console.log(`accessibility: new pipeline ${form.score} (${form.failing.join(', ') || 'all pass'}), members ${members.score} (${members.failing.join(', ') || 'all pass'})`);
    expect(form.score, `failing audits: ${form.failing.join(', ')}`).toBeGreaterThanOrEqual(90);
    expect(members.score, `failing audits: ${members.failing.join(', ')}`).toBeGreaterThanOrEqual(90);
  }, 120_000);
});
