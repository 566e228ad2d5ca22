// Route tests through app.inject: HAL shapes like the Cloud Manager fixtures, links present
// exactly when allowed, paging, 412 busy, 404s, variables, auth per role, signed logs, SSE.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REL_BASE } from '../../src/api/hal.ts';
import { signingKey, UrlSigner } from '../../src/api/signing.ts';
import { prepareBuildCache } from '../../src/runner/build-cache.ts';
import { createEnvironment, updateEnvironment } from '../../src/store/environments.ts';
import type { Execution } from '../../src/domain/model.ts';
import { createPipeline, getPipeline } from '../../src/store/pipelines.ts';
import { addMember, call, makeHarness, stepIs, waitForExecution, type Harness } from './harness.ts';
import { fileURLToPath } from 'node:url';

// Responses from Adobe's client tests (Apache-2.0), copied into the repository: see its README.
const FIXTURES = fileURLToPath(new URL('../fixtures/cloud-manager', import.meta.url));
const fixture = (name: string) => JSON.parse(readFileSync(`${FIXTURES}/${name}`, 'utf8')) as Record<string, unknown>;
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/;

let h: Harness;
let p: string;
let pl: string;

beforeAll(async () => {
  h = await makeHarness({ handlers: { buildLogMs: 300 } });
  p = `/api/program/${h.programId}`;
  pl = `${p}/pipeline/${h.fullStack.id}`;
});
afterAll(async () => {
  await h?.close();
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const rels = (o: Json) => Object.keys(o._links as object).map((k) => k.replace(REL_BASE, ''));
const stepOf = (execution: Json, action: string): Json => (execution._embedded.stepStates as Json[]).find((s) => s.action === action) as Json;

/** A production pipeline of the calling test's own: its executions are no other test's. */
async function ownPipeline(): Promise<string> {
  const pipeline = await createPipeline(h.slipway.rt.db.kysely, {
    programId: h.programId, name: `own-${++pipelines}`, type: 'fullStack', trigger: 'MANUAL', repositoryId: h.repositoryId,
    branch: 'main', environments: { stage: h.env.stage, prod: h.env.prod }, options: { approval: true, uiTests: false },
  });
  return `${p}/pipeline/${pipeline.id}`;
}
let pipelines = 0;

/** Starts an execution on a pipeline of the test's own and waits until `until` holds; its JSON. */
async function ownExecution(until: (e: Execution) => boolean): Promise<{ pl: string; execution: Json }> {
  const own = await ownPipeline();
  const started = await call(h, 'PUT', `${own}/execution`);
  expect(started.status).toBe(201);
  await waitForExecution(h, started.json.id as string, until);
  return { pl: own, execution: (await call(h, 'GET', `${own}/execution/${started.json.id as string}`)).json };
}
const atQualityGate = stepIs('codeQuality', 'WAITING');

describe('executions', () => {
  it('starts with 201, a Location header and the fixture shape; a second start is 412', async () => {
    const own = await ownPipeline();
    const res = await h.app.inject({ method: 'PUT', url: `${own}/execution`, headers: { authorization: `Bearer slw_test_admin_token_0123456789` } });
    expect(res.statusCode).toBe(201);
    const body = JSON.parse(res.body) as Json;
    expect(res.headers.location).toMatch(new RegExp(`${own}/execution/${body.id as string}$`));
    const sample = fixture('newExecution.json');
    for (const key of Object.keys(sample)) if (key !== 'artifactsVersion' || body.artifactsVersion) expect(body).toHaveProperty(key);
    expect(typeof body.id).toBe('string');
    expect(body.createdAt).toMatch(TIMESTAMP);
    expect(body.pipelineType).toBe('CI_CD');
    expect(body.slipwayPipelineType).toBe('fullStack');
    expect(body.user).toBe('admin');
    const busy = await call(h, 'PUT', `${own}/execution`);
    expect(busy.status).toBe(412);
    expect(busy.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(busy.json).toMatchObject({ status: 412, title: expect.any(String), detail: expect.any(String) });
  });

  it('has step states shaped like execution1006.json with links exactly when allowed', async () => {
    const { execution } = await ownExecution(atQualityGate);
    const sample = fixture('execution1006.json') as Json;
    const waitingSample = (sample._embedded.stepStates as Json[])[2] as Json;
    const cq = stepOf(execution, 'codeQuality');
    for (const key of Object.keys(waitingSample)) expect(cq).toHaveProperty(key);
    expect(rels(cq).sort()).toEqual(['execution', 'pipeline', 'program', 'pipeline/logs', 'pipeline/metrics', 'pipeline/advance', 'pipeline/cancel', 'self'].sort());
    const build = stepOf(execution, 'build');
    expect(build.status).toBe('FINISHED');
    expect(rels(build)).not.toContain('pipeline/advance');
    expect(rels(build)).not.toContain('pipeline/cancel');
    expect(build.commitId).toMatch(/^[0-9a-f]{40}$/);
    expect(build.repository).toBe('site');
    const approval = stepOf(execution, 'approval');
    expect(rels(approval).sort()).toEqual(['execution', 'pipeline', 'program', 'self']);
    const deployProd = (execution._embedded.stepStates as Json[]).find((s) => s.action === 'deploy' && s.environmentType === 'prod') as Json;
    expect(deployProd.environment).toBe('site-prod');
    expect(rels(deployProd)).not.toContain('pipeline/reExecute');
    expect(cq.self ?? cq._links.self.href).toMatch(/\/phase\/\d+\/step\/\d+$/);
  });

  /** Overrides the quality gate of an execution waiting there; returns it once its approval waits. */
  async function passQualityGate(pl: string, execution: Json): Promise<Json> {
    const cq = stepOf(execution, 'codeQuality');
    const ok = await call(h, 'PUT', `${cq._links.self.href as string}/advance`, { metrics: [{ kpi: 'coverage', override: true }] });
    expect(ok.status).toBe(202);
    await waitForExecution(h, execution.id as string, stepIs('approval', 'WAITING'));
    return (await call(h, 'GET', `${pl}/execution/${execution.id as string}`)).json;
  }

  it('serves metrics with string ids; advance needs every failing important metric', async () => {
    const { pl, execution } = await ownExecution(atQualityGate);
    const cq = stepOf(execution, 'codeQuality');
    const metrics = await call(h, 'GET', `${cq._links.self.href as string}/metrics`);
    expect(metrics.status).toBe(200);
    const m = (metrics.json.metrics as Json[])[0] as Json;
    expect(typeof m.id).toBe('string');
    expect(Object.keys(m).sort()).toEqual(Object.keys((fixture('codequality-metrics.json').metrics as Json[])[0] as Json).sort());
    const bad = await call(h, 'PUT', `${cq._links.self.href as string}/advance`, { metrics: [] });
    expect(bad.status).toBe(400);
    const notWaiting = await call(h, 'PUT', `${stepOf(execution, 'build')._links.self.href as string}/advance`, { approved: true });
    expect(notWaiting.status).toBe(409);
    const after = await passQualityGate(pl, execution);
    expect(stepOf(after, 'codeQuality').details.input).toEqual({ metrics: [{ kpi: 'coverage', override: true }] });
    expect(stepOf(after, 'codeQuality').details.user).toBe('admin');
    expect(rels(stepOf(after, 'approval'))).toContain('pipeline/advance');
  });

  it('offers reExecute on the prod deploy step once it completed, and re-executes; the history pages newest first', async () => {
    const { pl, execution } = await ownExecution(atQualityGate);
    const approval = stepOf(await passQualityGate(pl, execution), 'approval');
    expect((await call(h, 'PUT', `${approval._links.self.href as string}/advance`, { approved: true })).status).toBe(202);
    const done = await waitForExecution(h, execution.id as string, (e) => e.status === 'FINISHED');
    const json = (await call(h, 'GET', `${pl}/execution/${done.id}`)).json;
    const deploy = (json._embedded.stepStates as Json[]).find((s) => s.action === 'deploy' && s.environmentType === 'prod') as Json;
    const reExec = deploy._links[`${REL_BASE}pipeline/reExecute`] as Json;
    expect(reExec.href).toBe(`${pl}/execution?stepId=${deploy.id as string}`);
    const again = await call(h, 'PUT', reExec.href as string);
    expect(again.status).toBe(201);
    expect(again.json.trigger).toBe('RE_EXECUTE');
    await waitForExecution(h, again.json.id as string, (e) => e.status === 'FINISHED');

    const page = await call(h, 'GET', `${pl}/executions?start=0&limit=1`);
    expect(page.status).toBe(200);
    expect(page.json._totalNumberOfItems).toBe(2);
    expect((page.json._embedded.executions as Json[])[0]?.trigger).toBe('RE_EXECUTE');
    expect(page.json._links.next.href).toBe(`${pl}/executions?start=1&limit=1`);
    expect(page.json._links.page).toEqual({ href: `${pl}/executions?start={start}&limit={limit}`, templated: true });
    const second = await call(h, 'GET', page.json._links.next.href as string);
    expect((second.json._embedded.executions as Json[])[0]?.trigger).toBe('MANUAL');
    expect(second.json._links.next).toBeUndefined();
    expect(second.json._links.prev.href).toBe(`${pl}/executions?start=0&limit=1`);
    expect((await call(h, 'GET', `${pl}/executions?limit=0`)).status).toBe(400);
  });

  it('answers 404 for what does not exist and 400 for malformed ids', async () => {
    const pl = await ownPipeline();
    expect((await call(h, 'GET', `${pl}/execution`)).status).toBe(404);
    expect((await call(h, 'GET', `${pl}/execution/999999`)).status).toBe(404);
    expect((await call(h, 'GET', `${p}/pipeline/999/executions`)).status).toBe(404);
    expect((await call(h, 'GET', `/api/program/999`)).status).toBe(404);
    expect((await call(h, 'GET', `${pl}/execution/abc`)).status).toBe(400);
    expect((await call(h, 'GET', `${pl}/execution/1/phase/1/step/1`)).status).toBe(404);
    expect((await call(h, 'GET', `/api/program/..%2f..%2fetc`)).status).toBeLessThan(500);
  });
});

describe('variables', () => {
  it('PATCH then GET; secrets are never returned; empty value deletes', async () => {
    const url = `${p}/environment/${h.env.stage}/variables`;
    const patch = await call(h, 'PATCH', url, [
      { name: 'API_URL', value: 'https://x', type: 'string' },
      { name: 'API_KEY', value: 's3cret', type: 'secretString', service: 'publish' },
    ]);
    expect(patch.status).toBe(204);
    const list = await call(h, 'GET', url);
    const vars = list.json._embedded.variables as Json[];
    expect(vars).toContainEqual(expect.objectContaining({ name: 'API_URL', value: 'https://x', type: 'string' }));
    const secret = vars.find((v) => v.name === 'API_KEY') as Json;
    expect(secret).not.toHaveProperty('value');
    expect(list.body).not.toContain('s3cret');
    expect((await call(h, 'PATCH', url, [{ name: 'API_URL', value: '', type: 'string' }])).status).toBe(204);
    expect(((await call(h, 'GET', url)).json._embedded.variables as Json[]).map((v) => v.name)).toEqual(['API_KEY']);
    expect((await call(h, 'PATCH', url, [{ name: '1bad', value: 'x', type: 'string' }])).status).toBe(400);
    expect((await call(h, 'PATCH', url, [{ name: 'LONG', value: 'x'.repeat(501), type: 'secretString' }])).status).toBe(400);
    const short = await call(h, 'PATCH', url, [{ name: 'PIN_CODE', value: '12345', type: 'secretString' }]);
    expect(short.status).toBe(400);
    expect(short.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(short.json.detail).toMatch(/PIN_CODE.*shorter than 6 characters/);
    expect((await call(h, 'PATCH', url, [{ name: 'API_KEY', value: 'x', type: 'string', service: 'publish' }])).status).toBe(400);
    expect((await call(h, 'PATCH', url, { name: 'X' })).status).toBe(400);
    const plUrl = `${pl}/variables`;
    expect((await call(h, 'PATCH', plUrl, [{ name: 'MAVEN_OPTS', value: '-Xmx1g', type: 'string', service: 'build' }])).status).toBe(204);
    expect((await call(h, 'PATCH', plUrl, [{ name: 'X_Y', value: 'v', type: 'string', service: 'author' }])).status).toBe(400);
  });
});

describe('auth and roles', () => {
  it('401 without or with a bad token; health needs none', async () => {
    expect((await h.app.inject({ url: '/api/programs' })).statusCode).toBe(401);
    expect((await call(h, 'GET', '/api/programs', undefined, 'slw_nope')).status).toBe(401);
    expect((await h.app.inject({ url: '/api/health' })).statusCode).toBe(200);
  });

  it('developers read and get logs but may not start; managers may; outsiders see nothing', async () => {
    const dev = await addMember(h, 'dora', 'DEVELOPER');
    const mgr = await addMember(h, 'max', 'DEPLOYMENT_MANAGER');
    const support = await addMember(h, 'sam', 'SUPPORT');
    const outsider = await addMember(h, 'olga', 'DEVELOPER');
    const other = await call(h, 'POST', '/api/programs', { name: 'Other' });
    expect(other.status).toBe(201);
    expect((await call(h, 'POST', `/api/program/${other.json.id as string}/members`, { user: 'olga', role: 'DEVELOPER' })).status).toBe(201);

    expect((await call(h, 'GET', `${pl}`, undefined, dev)).status).toBe(200);
    expect((await call(h, 'GET', `/api/program/${other.json.id as string}`, undefined, dev)).status).toBe(403);
    expect(((await call(h, 'GET', '/api/programs', undefined, dev)).json._embedded.programs as Json[]).map((x) => x.id)).toEqual([h.programId]);
    expect(((await call(h, 'GET', '/api/programs', undefined, outsider)).json._embedded.programs as Json[]).length).toBe(2);
    expect((await call(h, 'PUT', `${p}/pipeline/${h.codeQuality.id}/execution`, undefined, dev)).status).toBe(403);
    expect((await call(h, 'PUT', `${p}/pipeline/${h.codeQuality.id}/execution`, undefined, support)).status).toBe(403);
    expect((await call(h, 'PATCH', `${pl}/variables`, [], dev)).status).toBe(403);
    expect((await call(h, 'POST', '/api/programs', { name: 'x' }, mgr)).status).toBe(403);
    const started = await call(h, 'PUT', `${p}/pipeline/${h.codeQuality.id}/execution`, undefined, mgr);
    expect(started.status).toBe(201);
    expect(started.json.user).toBe('max');
    await waitForExecution(h, started.json.id as string, stepIs('codeQuality', 'WAITING'));
    const ex = (await call(h, 'GET', `${p}/pipeline/${h.codeQuality.id}/execution`, undefined, dev)).json;
    const build = stepOf(ex, 'build');
    expect((await call(h, 'GET', `${build._links.self.href as string}/logs`, undefined, dev)).status).toBe(200);
    expect((await call(h, 'PUT', `${stepOf(ex, 'codeQuality')._links.self.href as string}/cancel`, { override: false }, dev)).status).toBe(403);
    expect((await call(h, 'PUT', `${stepOf(ex, 'codeQuality')._links.self.href as string}/cancel`, { override: false }, mgr)).status).toBe(202);
    const ended = await waitForExecution(h, started.json.id as string, (e) => e.finishedAt !== undefined);
    expect(ended.steps.find((s) => s.action === 'codeQuality')?.details.user).toBe('max');
    // A push update is an operator's act: administrators only.
    const pushUrl = `${p}/pipeline/${h.codeQuality.id}/execution?trigger=PUSH_UPGRADES`;
    expect((await call(h, 'PUT', pushUrl, undefined, mgr)).status).toBe(403);
    const push = await call(h, 'PUT', pushUrl);
    expect(push.status).toBe(201);
    expect(push.json.trigger).toBe('PUSH_UPGRADES');
    await waitForExecution(h, push.json.id as string, stepIs('codeQuality', 'WAITING'));
    const pushed = (await call(h, 'GET', `${p}/pipeline/${h.codeQuality.id}/execution`)).json;
    expect((await call(h, 'PUT', `${stepOf(pushed, 'codeQuality')._links.self.href as string}/cancel`, { override: false })).status).toBe(202);
    await waitForExecution(h, push.json.id as string, (e) => e.finishedAt !== undefined);
    const who = await call(h, 'GET', '/api/whoami', undefined, mgr);
    expect(who.json).toMatchObject({ name: 'max', admin: false, programs: [{ programId: h.programId, roles: ['DEPLOYMENT_MANAGER'] }] });
  });
});

describe('logs through signed URLs', () => {
  it('redirects (JSON and 307) and serves ranges: 200, 206, 416, 404; forged and expired are 403', async () => {
    const { execution: ex } = await ownExecution(atQualityGate);
    const build = stepOf(ex, 'build');
    const logs = `${build._links.self.href as string}/logs`;
    const json = await call(h, 'GET', logs);
    const url = new URL(json.json.redirect as string);
    expect(url.pathname).toBe(`/logs/${build.id as string}/main`);
    const plain = await h.app.inject({ url: logs, headers: { authorization: 'Bearer slw_test_admin_token_0123456789' } });
    expect(plain.statusCode).toBe(307);
    expect(new URL(String(plain.headers.location)).pathname).toBe(url.pathname);
    const path = `${url.pathname}${url.search}`;
    const full = await h.app.inject({ url: path });
    expect(full.statusCode).toBe(200);
    expect(full.body).toContain('build line 1');
    const size = full.rawPayload.length;
    const part = await h.app.inject({ url: path, headers: { range: 'bytes=0-9' } });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 0-9/${size}`);
    expect(part.rawPayload.length).toBe(10);
    const tail = await h.app.inject({ url: path, headers: { range: `bytes=${size - 5}-` } });
    expect(tail.statusCode).toBe(206);
    expect(tail.rawPayload.length).toBe(5);
    expect((await h.app.inject({ url: path, headers: { range: `bytes=${size}-` } })).statusCode).toBe(416);
    const forged = path.replace(/signature=[^&]+/, 'signature=AAAA');
    expect((await h.app.inject({ url: forged })).statusCode).toBe(403);
    const otherStep = path.replace(`/logs/${build.id as string}/`, `/logs/${Number(build.id) + 1}/`);
    expect((await h.app.inject({ url: otherStep })).statusCode).toBe(403);
    // Correctly signed with the server's key, but long expired.
    const pastSigner = new UrlSigner(signingKey(h.slipway.config.dataDir), () => 0);
    const expired = await h.app.inject({ url: pastSigner.sign('logs', build.id as string, 'main') });
    expect(expired.statusCode).toBe(403);
    expect(expired.json()).toMatchObject({ detail: 'the link has expired' });
  });

  it('lists a step\'s artifacts and serves them through a signed URL', async () => {
    const { execution: ex } = await ownExecution(atQualityGate);
    const build = stepOf(ex, 'build');
    const list = await call(h, 'GET', `${build._links.self.href as string}/artifacts`);
    expect(list.status).toBe(200);
    const artifact = (list.json._embedded.artifacts as Json[])[0] as Json;
    expect(artifact).toMatchObject({ stepName: 'build', type: 'BUILD_OUTPUT', file: 'site.all-1.0.zip', format: 'zip' });
    expect(artifact.id).toMatch(/^[0-9a-f]{16}$/);
    const redirect = (await call(h, 'GET', artifact._links.self.href as string)).json.redirect as string;
    const u = new URL(redirect);
    const blob = await h.app.inject({ url: `${u.pathname}${u.search}` });
    expect(blob.statusCode).toBe(200);
    expect(blob.body).toMatch(/^build output of execution \d+/);
    expect((await h.app.inject({ url: u.pathname })).statusCode).toBe(403);
    expect((await call(h, 'GET', `${build._links.self.href as string}/artifact/ffffffffffffffff`)).status).toBe(404);
  });

  it('answers 404 before the log exists', async () => {
    const start = await call(h, 'PUT', `${p}/pipeline/${h.codeQuality.id}/execution`);
    const cqId = (start.json._embedded.stepStates as Json[]).find((s) => s.action === 'codeQuality')?.id as string;
    const fresh = (await call(h, 'GET', `${p}/pipeline/${h.codeQuality.id}/execution/${start.json.id as string}`)).json;
    const cq = stepOf(fresh, 'codeQuality');
    // Before codeQuality runs it offers no logs link; the signed URL (made via any started step's form) 404s.
    if (cq.status === 'NOT_STARTED') expect(rels(cq)).not.toContain('pipeline/logs');
    const validate = stepOf(fresh, 'validate');
    const redirect = (await call(h, 'GET', `${validate._links.self.href as string}/logs`)).json.redirect as string;
    const u = new URL(redirect.replace(`/logs/${validate.id as string}/`, `/logs/${cqId}/`));
    expect(u.pathname).toContain(cqId);
    await waitForExecution(h, start.json.id as string, stepIs('codeQuality', 'WAITING'));
    expect((await call(h, 'PUT', `${cq._links.self.href as string}/cancel`, { override: false })).status).toBe(202);
    await waitForExecution(h, start.json.id as string, (e) => e.finishedAt !== undefined);
    // Once the step has ended, a log it never wrote is a 404 from the API itself, not a URL that 404s.
    expect((await call(h, 'GET', `${validate._links.self.href as string}/logs?file=sonarLogFile`)).status).toBe(404);
    // The signed URL of a log not written (yet) answers 404: tailing clients wait on it.
    const signed = new UrlSigner(signingKey(h.slipway.config.dataDir)).sign('logs', validate.id as string, 'sonarLogFile');
    expect((await h.app.inject({ url: signed })).statusCode).toBe(404);
  });
});

describe('environments, pipelines, repositories, openapi', () => {
  it('creates, patches (CM phases form) and deletes a pipeline', async () => {
    const created = await call(h, 'POST', `${p}/pipelines`, {
      name: 'dev deploy', type: 'devDeploy', trigger: 'MANUAL', repositoryId: h.repositoryId, branch: 'main', environments: { dev: h.env.dev },
    });
    expect(created.status).toBe(201);
    expect(created.json.phases).toEqual([
      { name: 'BUILD_1', type: 'BUILD', repositoryId: h.repositoryId, branch: 'main' },
      { name: 'DEPLOY_1', type: 'DEPLOY', environmentId: h.env.dev, environmentType: 'dev', environmentName: 'site-dev' },
    ]);
    const self = created.json._links.self.href as string;
    const patched = await call(h, 'PATCH', self, { phases: [{ type: 'BUILD', repositoryId: h.repositoryId, branch: 'release/1.0' }] });
    expect(patched.status).toBe(200);
    expect(patched.json.phases[0].branch).toBe('release/1.0');
    expect((await call(h, 'PATCH', self, { phases: [{ type: 'DEPLOY', environmentId: h.env.stage, environmentType: 'dev' }] })).status).toBe(400);
    expect((await call(h, 'PATCH', self, { branch: '--upload-pack=x' })).status).toBe(400);
    expect((await call(h, 'POST', `${p}/pipelines`, { name: 'x', type: 'fullStack', repositoryId: h.repositoryId, branch: 'main' })).status).toBe(400);
    expect((await call(h, 'DELETE', self)).status).toBe(204);
    expect((await call(h, 'GET', self)).status).toBe(404);
  });

  it('refuses to skip the experience audit: an empty auditPaths is a 400 naming the field', async () => {
    const body = { name: 'no audit', type: 'fullStack', repositoryId: h.repositoryId, branch: 'main', environments: { stage: h.env.stage, prod: h.env.prod } };
    const refused = await call(h, 'POST', `${p}/pipelines`, { ...body, options: { auditPaths: [] } });
    expect(refused.status).toBe(400);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.json.invalidParams).toEqual([expect.objectContaining({ name: 'body.options.auditPaths' })]);
    const created = await call(h, 'POST', `${p}/pipelines`, body);
    expect(created.status).toBe(201);
    const self = created.json._links.self.href as string;
    const patched = await call(h, 'PATCH', self, { options: { auditPaths: [] } });
    expect(patched.status).toBe(400);
    expect(patched.json.detail).toMatch(/options\.auditPaths/);
    const pipeline = await getPipeline(h.slipway.rt.db.kysely, created.json.id as string);
    expect(pipeline?.options.auditPaths).toEqual(['/']);
    // Deleting a pipeline deletes its build cache too.
    const cache = await prepareBuildCache(h.slipway.config.dataDir, created.json.id as string);
    expect((await call(h, 'DELETE', self)).status).toBe(204);
    expect(existsSync(cache)).toBe(false);
  });

  it('refuses a production environment with one publish/dispatcher pair (it cannot roll without downtime)', async () => {
    const db = h.slipway.rt.db.kysely;
    const single = await createEnvironment(db, h.programId, { name: 'single-prod', type: 'prod', publishCount: 1 });
    await updateEnvironment(db, single.id, { status: 'ready' });
    const body = { name: 'one pair', type: 'fullStack', repositoryId: h.repositoryId, branch: 'main', environments: { stage: h.env.stage, prod: single.id } };
    const refused = await call(h, 'POST', `${p}/pipelines`, body);
    expect(refused.status).toBe(400);
    expect(refused.json.detail).toMatch(/single-prod has 1 publish\/dispatcher pair.*at least 2/);
    const created = await call(h, 'POST', `${p}/pipelines`, { ...body, environments: { stage: h.env.stage, prod: h.env.prod } });
    expect(created.status).toBe(201);
    const self = created.json._links.self.href as string;
    const patched = await call(h, 'PATCH', self, { phases: [{ type: 'DEPLOY', environmentId: single.id, environmentType: 'prod' }] });
    expect(patched.status).toBe(400);
    expect(patched.json.detail).toMatch(/single-prod/);
    expect((await getPipeline(db, created.json.id as string))?.environments.prod).toBe(h.env.prod);
    expect((await call(h, 'DELETE', self)).status).toBe(204);
  });

  it("DELETE …/cache empties the pipeline's build cache (204) and leaves the environments alone", async () => {
    const { dataDir } = h.slipway.config;
    const dir = await prepareBuildCache(dataDir, h.fullStack.id);
    mkdirSync(join(dir, 'npm'));
    writeFileSync(join(dir, 'npm', 'index'), 'cached');
    const other = await prepareBuildCache(dataDir, h.codeQuality.id);
    writeFileSync(join(other, 'kept'), 'other pipeline');
    const before = h.driver.calls.length;
    const res = await call(h, 'DELETE', `${pl}/cache`);
    expect(res.status).toBe(204);
    expect(existsSync(join(dir, 'npm', 'index'))).toBe(false);
    expect(readFileSync(join(other, 'kept'), 'utf8')).toBe('other pipeline');
    expect(h.driver.calls.slice(before)).toEqual([]);
    // Nothing to empty is fine too; the next build creates the directory again.
    expect((await call(h, 'DELETE', `${pl}/cache`)).status).toBe(204);
    expect(existsSync(await prepareBuildCache(dataDir, h.fullStack.id))).toBe(true);
  });

  it('lists branches of the real repository', async () => {
    const res = await call(h, 'GET', `${p}/repository/${h.repositoryId}/branches`);
    expect(res.status).toBe(200);
    expect((res.json._embedded.branches as Json[]).map((b) => b.name)).toEqual(['main']);
  });

  it('publishes an OpenAPI document of every route', async () => {
    const doc = (await call(h, 'GET', '/api/openapi.json')).json;
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths as object)).toEqual(expect.arrayContaining([
      '/api/programs', '/api/program/{programId}/pipeline/{pipelineId}/execution',
      '/api/program/{programId}/pipeline/{pipelineId}/execution/{executionId}/phase/{phaseId}/step/{stepId}/advance',
    ]));
  });
});

describe('server-sent events', () => {
  it('delivers a snapshot and the step events of the execution', async () => {
    const address = await h.app.listen({ port: 0, host: '127.0.0.1' });
    const start = await call(h, 'PUT', `${p}/pipeline/${h.codeQuality.id}/execution`);
    const res = await fetch(`${address}${p}/pipeline/${h.codeQuality.id}/execution/${start.json.id as string}/events`, {
      headers: { authorization: 'Bearer slw_test_admin_token_0123456789' },
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('event: step.waiting')) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += Buffer.from(chunk.value).toString('utf8');
    }
    await reader.cancel();
    expect(text.startsWith('event: snapshot\n')).toBe(true);
    expect(text).toContain('event: step.started');
    expect(text).toMatch(/"action":"codeQuality","status":"WAITING"/);
    const cq = stepOf((await call(h, 'GET', `${p}/pipeline/${h.codeQuality.id}/execution`)).json, 'codeQuality');
    await call(h, 'PUT', `${cq._links.self.href as string}/cancel`, { override: false });
    await waitForExecution(h, start.json.id as string, (e) => e.finishedAt !== undefined);
  });
});
