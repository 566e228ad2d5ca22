// Links and tokens: absolute URLs come from SLIPWAY_PUBLIC_URL (never the Host header), roles
// and tokens can be revoked and tokens rotated, a grant never hands out an administrator's
// token, the URL-signing key rotates, and repository URLs that point at the host are refused.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/api/server.ts';
import { main } from '../../src/cli/program.ts';
import { cancelExecution } from '../../src/engine/commands.ts';
import { checkRepositoryUrl, isPublicAddress, pinnedResolveArgs } from '../../src/runner/repository-url.ts';
import { addMember, ADMIN_TOKEN, bearer, call, makeHarness, waitForExecution, type Harness } from './harness.ts';

let h: Harness;
let p: string;
beforeAll(async () => {
  h = await makeHarness({ handlers: { buildLogMs: 10 } });
  p = `/api/program/${h.programId}`;
});
afterAll(async () => {
  await h?.close();
});

describe('members and tokens', () => {
  it('never grants a role to an administrator, so no grant returns an admin token', async () => {
    const res = await call(h, 'POST', `${p}/members`, { user: 'admin', role: 'DEVELOPER' });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.json.invalidParams).toEqual([{ name: 'body.user', reason: 'is an administrator' }]);
    expect(res.body).not.toMatch(/slw_/);
  });

  it('revokes one role or all roles of a member', async () => {
    const token = await addMember(h, 'rita', 'DEPLOYMENT_MANAGER');
    await addMember(h, 'rita', 'DEVELOPER');
    expect((await call(h, 'GET', '/api/whoami', undefined, token)).json.admin).toBe(false);
    expect((await call(h, 'DELETE', `${p}/members/rita?role=DEPLOYMENT_MANAGER`)).status).toBe(204);
    expect((await call(h, 'GET', '/api/whoami', undefined, token)).json.programs).toEqual([{ programId: h.programId, roles: ['DEVELOPER'] }]);
    // Reading is still allowed, operating is not.
    expect((await call(h, 'GET', p, undefined, token)).status).toBe(200);
    expect((await call(h, 'PUT', `${p}/pipeline/${h.codeQuality.id}/execution`, undefined, token)).status).toBe(403);
    expect((await call(h, 'DELETE', `${p}/members/rita`)).status).toBe(204);
    expect((await call(h, 'GET', p, undefined, token)).status).toBe(403);
    expect((await call(h, 'DELETE', `${p}/members/rita`)).status).toBe(404);
    expect((await call(h, 'DELETE', `${p}/members/rita`, undefined, token)).status).toBe(403);
  });

  it('rotates the calling token: the old one gets 401 at once, the new one works', async () => {
    const old = await addMember(h, 'otto', 'DEVELOPER');
    const rotated = await call(h, 'POST', '/api/tokens/rotate', undefined, old);
    expect(rotated.status).toBe(200);
    expect(rotated.json.user).toBe('otto');
    const fresh = rotated.json.token as string;
    expect(fresh).toMatch(/^slw_/);
    expect((await call(h, 'GET', '/api/whoami', undefined, old)).status).toBe(401);
    expect((await call(h, 'GET', '/api/whoami', undefined, fresh)).json.name).toBe('otto');
    // Signing out revokes the token of the request.
    expect((await call(h, 'DELETE', '/api/tokens/current', undefined, fresh)).status).toBe(204);
    expect((await call(h, 'GET', '/api/whoami', undefined, fresh)).status).toBe(401);
  });

  it('lets an administrator revoke every token of a user, and only an administrator', async () => {
    const first = await addMember(h, 'vera', 'DEVELOPER');
    const second = await addMember(h, 'vera', 'SUPPORT');
    expect((await call(h, 'DELETE', '/api/users/vera/tokens', undefined, first)).status).toBe(403);
    const revoked = await call(h, 'DELETE', '/api/users/vera/tokens');
    expect(revoked).toMatchObject({ status: 200, json: { user: 'vera', revoked: 2 } });
    for (const token of [first, second]) expect((await call(h, 'GET', '/api/whoami', undefined, token)).status).toBe(401);
    expect((await call(h, 'DELETE', '/api/users/nobody/tokens')).status).toBe(404);
  });
});

describe('absolute URLs', () => {
  let pub: FastifyInstance;
  beforeAll(async () => {
    pub = await buildServer(h.slipway, { adminToken: ADMIN_TOKEN, publicUrl: 'https://slipway.example.com/base' });
  });
  afterAll(async () => {
    await pub?.close();
  });

  it('come from the public URL, whatever Host header a request sends', async () => {
    const started = await pub.inject({
      method: 'PUT', url: `${p}/pipeline/${h.codeQuality.id}/execution`, headers: { ...bearer(), host: 'evil.example' },
    });
    expect(started.statusCode).toBe(201);
    const id = (started.json() as { id: string }).id;
    expect(started.headers.location).toBe(`https://slipway.example.com/base${p}/pipeline/${h.codeQuality.id}/execution/${id}`);
    await waitForExecution(h, id, (e) => e.steps.some((s) => s.action === 'build' && s.status !== 'NOT_STARTED' && s.status !== 'RUNNING'));
    const view = (await call(h, 'GET', `${p}/pipeline/${h.codeQuality.id}/execution/${id}`)).json;
    const build = view._embedded.stepStates.find((s: { action: string }) => s.action === 'build');
    const logs = await pub.inject({
      url: `${build._links.self.href as string}/logs`,
      headers: { ...bearer(), host: 'evil.example', 'x-forwarded-host': 'evil.example' },
    });
    expect(logs.statusCode, logs.body).toBe(307);
    expect(logs.headers.location).toMatch(/^https:\/\/slipway\.example\.com\/base\/logs\//);
    const json = await pub.inject({ url: `${build._links.self.href as string}/logs`, headers: { ...bearer(), host: 'evil.example', accept: 'application/json' } });
    expect((json.json() as { redirect: string }).redirect).toMatch(/^https:\/\/slipway\.example\.com\/base\/logs\//);
    await cancelExecution(h.slipway.rt, id, 'test');
  });

  it('default to the listen address, not the Host header', async () => {
    const res = await h.app.inject({ method: 'PUT', url: `${p}/pipeline/${h.fullStack.id}/execution`, headers: { ...bearer(), host: 'evil.example' } });
    expect(res.statusCode).toBe(201);
    expect(res.headers.location).not.toContain('evil.example');
    expect(res.headers.location).toMatch(/^http:\/\/127\.0\.0\.1\//);
  });
});

describe('the URL-signing key', () => {
  it('rotates with `slipway rotate-signing-key`: links signed before stop working', async () => {
    const before = h.slipway.config.dataDir;
    const signed = async () => {
      const ex = (await call(h, 'GET', `${p}/pipeline/${h.fullStack.id}/executions?limit=1`)).json._embedded.executions[0];
      const build = ex._embedded.stepStates.find((s: { action: string }) => s.action === 'build');
      const url = new URL((await call(h, 'GET', `${build._links.self.href as string}/logs`)).json.redirect as string);
      return `${url.pathname}${url.search}`;
    };
    const old = await signed();
    expect((await h.app.inject({ url: old })).statusCode).not.toBe(403);
    const saved = process.env.SLIPWAY_DATA;
    process.env.SLIPWAY_DATA = before;
    try {
      expect(await main(['rotate-signing-key'])).toBe(0);
    } finally {
      if (saved === undefined) delete process.env.SLIPWAY_DATA;
      else process.env.SLIPWAY_DATA = saved;
    }
    const refused = await h.app.inject({ url: old });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ detail: 'bad signature' });
    expect((await h.app.inject({ url: await signed() })).statusCode).not.toBe(403);
  });

  it('rotates through the API too, for administrators only', async () => {
    const url = new URL((await call(h, 'GET', `${p}/pipeline/${h.fullStack.id}/executions?limit=1`)).json._embedded.executions[0]
      ._embedded.stepStates.find((s: { action: string }) => s.action === 'build')._links.self.href as string, 'http://x');
    const redirect = new URL((await call(h, 'GET', `${url.pathname}/logs`)).json.redirect as string);
    const old = `${redirect.pathname}${redirect.search}`;
    expect((await h.app.inject({ url: old })).statusCode).not.toBe(403);
    const member = await addMember(h, 'sid', 'DEPLOYMENT_MANAGER');
    expect((await call(h, 'POST', '/api/signing-key/rotate', undefined, member)).status).toBe(403);
    expect((await call(h, 'POST', '/api/signing-key/rotate')).status).toBe(204);
    expect((await h.app.inject({ url: old })).statusCode).toBe(403);
  });
});

describe('repository URLs', () => {
  const create = (url: string) => call(h, 'POST', `${p}/repositories`, { name: 'r', url });

  it.each([
    'file:///etc', '/srv/other-program/repo.git', 'http://127.0.0.1:8080/x.git', 'https://localhost/x.git',
    'http://[::1]/x.git', 'http://169.254.169.254/latest', 'https://10.1.2.3/x.git', 'git@192.168.1.1:team/x.git',
    'ssh://git@[fe80::1]/x.git', 'http://[::ffff:127.0.0.1]/x.git', 'ftp://example.com/x.git',
  ])('refuses %s with a 400 naming the field', async (url) => {
    const res = await create(url);
    expect(res.status, res.body).toBe(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.json.invalidParams?.[0]?.name).toBe('body.url');
  });

  it('accepts public hosts, and a private host an administrator allowed', async () => {
    expect((await create('https://93.184.215.14/team/site.git')).status).toBe(201);
    const saved = process.env.SLIPWAY_ALLOWED_GIT_HOSTS;
    process.env.SLIPWAY_ALLOWED_GIT_HOSTS = 'git.internal,127.0.0.1';
    try {
      expect((await create('http://127.0.0.1:9418/site.git')).status).toBe(201);
    } finally {
      if (saved === undefined) delete process.env.SLIPWAY_ALLOWED_GIT_HOSTS;
      else process.env.SLIPWAY_ALLOWED_GIT_HOSTS = saved;
    }
  });

  it('resolves host names: a name that points at the host is refused too', async () => {
    const resolver = (answers: string[]) => () => Promise.resolve(answers);
    await expect(checkRepositoryUrl('https://git.example.com/x.git', [], resolver(['93.184.215.14']))).resolves.toEqual(['93.184.215.14']);
    await expect(checkRepositoryUrl('https://git.example.com/x.git', [], resolver(['93.184.215.14', '127.0.0.1']))).rejects.toThrow(/loopback, link-local or private/);
    await expect(checkRepositoryUrl('https://git.internal/x.git', ['git.internal'], resolver(['10.0.0.1']))).resolves.toEqual([]);
    expect(pinnedResolveArgs('https://git.example.com/x.git', ['93.184.215.14', '2606:2800::1']))
      .toEqual(['-c', 'http.curloptResolve=git.example.com:443:93.184.215.14,[2606:2800::1]']);
    expect(pinnedResolveArgs('ssh://git@git.example.com/x.git', ['93.184.215.14'])).toEqual([]);
    expect(['8.8.8.8', '2001:4860:4860::8888'].every(isPublicAddress)).toBe(true);
    expect(['127.0.0.1', '10.0.0.1', '172.16.5.4', '192.168.0.1', '169.254.1.1', '::1', 'fd00::1', '0.0.0.0', '100.64.0.1'].some(isPublicAddress)).toBe(false);
  });
});

describe('the bootstrap admin token', () => {
  it('is not rotated or revoked through the API; a new configured token retires the old one', async () => {
    expect((await call(h, 'POST', '/api/tokens/rotate')).status).toBe(409);
    expect((await call(h, 'DELETE', '/api/tokens/current')).status).toBe(409);
    expect((await call(h, 'DELETE', '/api/users/admin/tokens')).json).toMatchObject({ revoked: 0 });
    expect((await call(h, 'GET', '/api/whoami')).status).toBe(200);

    const next = 'slw_next_admin_token_0123456789';
    const restarted = await buildServer(h.slipway, { adminToken: next });
    try {
      const whoami = (token: string) => restarted.inject({ url: '/api/whoami', headers: bearer(token) });
      expect((await whoami(next)).statusCode).toBe(200);
      expect((await whoami(ADMIN_TOKEN)).statusCode).toBe(401);
    } finally {
      await restarted.close();
      await (await buildServer(h.slipway, { adminToken: ADMIN_TOKEN })).close(); // back to the harness's token
    }
  });
});
