// Cloud Manager fidelity details that Adobe's client depends on: problem bodies with `errors`,
// x-request-id on every response, variables without a type, missing step logs, environment
// links (author, publish, developerConsole) and AEM-only routes that say what they are.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REL_BASE } from '../../src/api/hal.ts';
import { cancelExecution } from '../../src/engine/commands.ts';
import { updateEnvironment } from '../../src/store/environments.ts';
import { bearer, call, makeHarness, stepIs, waitForExecution, type Harness } from './harness.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let h: Harness;
let p: string;

beforeAll(async () => {
  h = await makeHarness({ handlers: { buildLogMs: 10 } });
  p = `/api/program/${h.programId}`;
});
afterAll(async () => {
  await h?.close();
});

describe('problem bodies and request ids', () => {
  it('401, 403, 404 and 412 carry the reason in `errors`, where Adobe\'s client reads it', async () => {
    const unauthorized = await call(h, 'GET', '/api/programs', undefined, 'slw_not_a_token');
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.json.errors).toEqual(['the token is not valid']);
    const missing = await call(h, 'GET', `${p}/environment/999999`);
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(missing.json).toMatchObject({ status: 404, detail: `environment 999999 of program ${h.programId} not found`, errors: [`environment 999999 of program ${h.programId} not found`] });
    const noRoute = await call(h, 'GET', '/api/nothing-here');
    expect(noRoute.json.errors).toEqual(['no route GET /api/nothing-here']);
    const other = await call(h, 'POST', '/api/programs', { name: 'Other' });
    const member = await call(h, 'POST', `/api/program/${other.json.id as string}/members`, { user: 'dee', role: 'DEVELOPER' });
    const forbidden = await call(h, 'GET', p, undefined, member.json.token as string);
    expect(forbidden.status).toBe(403);
    expect(forbidden.json.errors).toEqual([`user dee may not read program ${h.programId}`]);
  });

  it('every response has an x-request-id: a sane incoming one is kept, anything else replaced', async () => {
    const ids = new Set<string>();
    for (const [url, auth] of [['/api/health', false], ['/api/programs', true], ['/api/programs', false], ['/api/nothing', true], ['/ui/', false]] as const) {
      const res = await h.app.inject({ url, headers: auth ? bearer() : {} });
      const id = res.headers['x-request-id'];
      expect(id, url).toMatch(/^[0-9a-f-]{36}$/);
      ids.add(String(id));
    }
    expect(ids.size).toBe(5);
    // A URL that cannot even be decoded is refused before routing, and still answered in kind.
    const undecodable = await h.app.inject({ url: '/api/program/%E0%A4%A', headers: bearer() });
    expect(undecodable.statusCode).toBe(400);
    expect(undecodable.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(undecodable.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const kept = await h.app.inject({ url: '/api/health', headers: { 'x-request-id': 'ci-run-42.step:7' } });
    expect(kept.headers['x-request-id']).toBe('ci-run-42.step:7');
    for (const bad of ['', 'a b', 'x'.repeat(129), 'new\u00e9line']) {
      const replaced = await h.app.inject({ url: '/api/health', headers: { 'x-request-id': bad } });
      expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});

describe('variables', () => {
  it('a variable without a type is a string, for environments and pipelines alike', async () => {
    for (const url of [`${p}/environment/${h.env.dev}/variables`, `${p}/pipeline/${h.codeQuality.id}/variables`]) {
      expect((await call(h, 'PATCH', url, [{ name: 'NO_TYPE', value: 'plain' }])).status).toBe(204);
      expect((await call(h, 'GET', url)).json._embedded.variables).toEqual([{ name: 'NO_TYPE', value: 'plain', type: 'string', status: 'ready' }]);
    }
    const url = `${p}/environment/${h.env.dev}/variables`;
    expect((await call(h, 'PATCH', url, [{ name: 'SECRET', value: 's3cret-value', type: 'secretString' }])).status).toBe(204);
    // Untyped means string, and a secret does not silently become one.
    const retyped = await call(h, 'PATCH', url, [{ name: 'SECRET', value: 'now plain' }]);
    expect(retyped.status).toBe(400);
    expect(retyped.json.errors).toEqual(['variable SECRET is a secretString; delete it before setting it as string']);
    expect((await call(h, 'PATCH', url, [{ name: 'SECRET', value: '' }])).status).toBe(204);
  });
});

describe('step logs', () => {
  it('a log that an ended step never wrote is a 404 at once, not a signed URL that 404s', async () => {
    const started = await call(h, 'PUT', `${p}/pipeline/${h.codeQuality.id}/execution`);
    expect(started.status).toBe(201);
    await waitForExecution(h, started.json.id as string, stepIs('codeQuality', 'WAITING'));
    const execution = (await call(h, 'GET', `${p}/pipeline/${h.codeQuality.id}/execution`)).json;
    const build = (execution._embedded.stepStates as Json[]).find((s) => s.action === 'build') as Json;
    expect(build.status).toBe('FINISHED');
    const logs = build._links[`${REL_BASE}pipeline/logs`].href as string;
    expect((await call(h, 'GET', logs)).json.redirect).toMatch(/\/logs\/\d+\/main\?/);
    const missing = await call(h, 'GET', `${logs}?file=sonarLogFile`);
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(missing.json.errors).toEqual(['log sonarLogFile of the build step (FINISHED) not found']);
    // A live step may still write it: the waiting step's alternate log gets its URL.
    const waiting = (execution._embedded.stepStates as Json[]).find((s) => s.action === 'codeQuality') as Json;
    expect((await call(h, 'GET', `${waiting._links.self.href as string}/logs?file=later`)).status).toBe(200);
    const cancel = await call(h, 'PUT', `${waiting._links.self.href as string}/cancel`, { override: false });
    expect(cancel.status).toBe(202);
    await waitForExecution(h, started.json.id as string, (e) => e.finishedAt !== undefined);
    // Server-sent events bypass Fastify's reply, and still carry the request id.
    const events = await h.app.inject({ url: `${p}/pipeline/${h.codeQuality.id}/execution/${started.json.id as string}/events`, headers: bearer() });
    expect(events.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(events.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('environment links', () => {
  const rels = (env: Json) => Object.keys(env._links as object).filter((k) => k.startsWith(REL_BASE)).map((k) => k.slice(REL_BASE.length));

  it('a ready environment links its author, its entry point and its page in Slipway\'s UI, absolutely', async () => {
    const env = (await call(h, 'GET', `${p}/environment/${h.env.stage}`, undefined, undefined, { host: 'slipway.example:8080' })).json;
    expect(env._links[`${REL_BASE}author`]).toEqual({ href: 'http://127.0.0.1:4502', templated: false });
    expect(env._links[`${REL_BASE}publish`]).toEqual({ href: 'http://127.0.0.1:4503', templated: false });
    // Absolute URLs come from the public URL (here the fallback: no listen address), never from the Host header.
    expect(env._links[`${REL_BASE}developerConsole`].href).toBe(`http://127.0.0.1/ui/#/program/${h.programId}/environment/${h.env.stage}`);
    const listed = (await call(h, 'GET', `${p}/environments`)).json._embedded.environments as Json[];
    for (const e of listed) expect(rels(e)).toEqual(expect.arrayContaining(['author', 'publish', 'developerConsole']));
  });

  it('a deploy step that has not run yet shows its environment\'s URLs, publish first (Cloud Manager\'s environmentUrls)', async () => {
    const started = await call(h, 'PUT', `${p}/pipeline/${h.fullStack.id}/execution`);
    expect(started.status).toBe(201);
    const execution = (await call(h, 'GET', `${p}/pipeline/${h.fullStack.id}/execution/${started.json.id as string}`)).json;
    const steps = execution._embedded.stepStates as Json[];
    const prodDeploy = steps.find((s) => s.action === 'deploy' && s.environmentType === 'prod');
    expect(prodDeploy?.status).toBe('NOT_STARTED');
    expect(prodDeploy?.details.environmentUrls).toEqual([
      { instanceType: 'publish', instanceUrl: 'http://127.0.0.1:4503' },
      { instanceType: 'author', instanceUrl: 'http://127.0.0.1:4502' },
    ]);
    expect(steps.find((s) => s.action === 'validate')?.details?.environmentUrls).toBeUndefined();
    await cancelExecution(h.slipway.rt, started.json.id as string, 'test');
    await waitForExecution(h, started.json.id as string, (e) => e.finishedAt !== undefined);
  });

  it('an environment that is not ready has none of them', async () => {
    await updateEnvironment(h.slipway.rt.db.kysely, h.env.dev, { status: 'creating' });
    try {
      const env = (await call(h, 'GET', `${p}/environment/${h.env.dev}`)).json;
      expect(rels(env)).not.toContain('author');
      expect(rels(env)).not.toContain('publish');
      expect(rels(env)).not.toContain('developerConsole');
    } finally {
      await updateEnvironment(h.slipway.rt.db.kysely, h.env.dev, { status: 'ready' });
    }
  });
});

describe('AEM-only features', () => {
  it('IP allowlists, content sets and content flows answer a 404 that names the feature, for every method', async () => {
    const cases: [string, string, string][] = [
      ['GET', `${p}/ipAllowlists`, 'IP allowlists'],
      ['POST', `${p}/ipAllowlists`, 'IP allowlists'],
      ['PUT', `${p}/ipAllowlist/3`, 'IP allowlists'],
      ['POST', `${p}/ipAllowlist/3/bindings`, 'IP allowlists'],
      ['DELETE', `${p}/ipAllowlist/3/binding/4`, 'IP allowlists'],
      ['GET', `${p}/contentSets`, 'Content sets'],
      ['PUT', `${p}/contentSet/9`, 'Content sets'],
      ['GET', `${p}/contentFlows`, 'Content flows'],
      ['DELETE', `${p}/contentFlow/2`, 'Content flows'],
      ['POST', `${p}/environment/${h.env.stage}/contentFlow`, 'Content flows'],
    ];
    for (const [method, url, feature] of cases) {
      const res = await call(h, method as 'GET', url, method === 'GET' || method === 'DELETE' ? undefined : {});
      expect(res.status, `${method} ${url}`).toBe(404);
      expect(res.json.errors).toEqual([`${feature} are an AEM feature that Slipway does not have`]);
    }
    // Still behind authentication, and programs do not advertise them.
    expect((await call(h, 'GET', `${p}/contentSets`, undefined, 'slw_not_a_token')).status).toBe(401);
    expect(Object.keys((await call(h, 'GET', p)).json._links as object).join()).not.toMatch(/ipAllowlist|contentSet|contentFlow/);
  });
});
