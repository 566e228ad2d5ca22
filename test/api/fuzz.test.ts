// Fuzz: ≥ 10,000 malformed requests (bad JSON, wrong types, unknown ids, huge bodies, path
// tricks, unicode, wrong methods, bad auth) across every route, deterministic (seeded PRNG).
// The server must answer every one with a status below 500 and keep running.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, makeHarness, type Harness } from './harness.ts';

/** mulberry32: small, fast, deterministic. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const REQUESTS = 10_500;
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;
const BAD_SEGMENTS = [
  '999999', '0', '-1', 'abc', '..', '%2e%2e', '..%2f..%2fetc%2fpasswd', '%00', '💥', 'é', '1e3', '99999999999999999999',
  '1.5', '%20', 'null', '{id}', '1;DROP TABLE programs', '%252e%252e', '\u202e', 'a'.repeat(300),
];
const BAD_QUERIES = [
  '', '?start=-1', '?limit=abc', '?limit=100000', '?start=1e9&limit=1', '?pipelineExecutionMode=PANIC', '?stepId=../1',
  '?stepId=999999', '?file=../../etc/passwd', '?file=%2e%2e', '?type=qa', '?expires=1&signature=x', '?start[]=1&start[]=2',
  '?__proto__[x]=1', '?limit=%F0%9F%92%A5',
];
const CONTENT_TYPES = ['application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=utf-16', 'multipart/form-data; boundary=x', ''];

function badBodies(r: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const scalars = [null, true, 0, -1, 1e308, 'x', '', '💥'.repeat(10), [], {}];
  const rnd = (): unknown => pick(scalars);
  const choices: (() => unknown)[] = [
    () => '{', () => '[', () => '{"a":', () => '\u0000', () => 'nul', () => '"unterminated', () => '{"a":1}}',
    () => JSON.stringify(rnd()),
    () => JSON.stringify({ name: rnd(), type: rnd(), url: rnd(), repositoryId: rnd(), branch: rnd(), environments: rnd(), options: rnd() }),
    () => JSON.stringify([{ name: rnd(), value: rnd(), type: rnd(), service: rnd() }]),
    () => JSON.stringify([{ name: 'OK_NAME', value: 'x'.repeat(3000), type: 'string' }]),
    () => JSON.stringify({ phases: [{ type: pick(['BUILD', 'DEPLOY', 'X']), repositoryId: rnd(), environmentId: rnd(), branch: rnd() }] }),
    () => JSON.stringify({ metrics: rnd(), approved: rnd(), resume: rnd(), type: rnd(), schedule: rnd(), start: rnd() }),
    () => JSON.stringify({ metrics: [{ kpi: rnd(), override: rnd() }] }),
    () => '{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}}}',
    () => `${'['.repeat(5000)}${']'.repeat(5000)}`,
    () => JSON.stringify({ user: rnd(), role: pick(['ADMIN', 'DEVELOPER', 'x', 7]) }),
    () => JSON.stringify({ repositoryUrl: rnd(), repositoryId: rnd(), branch: pick(['main', '--upload-pack=touch /tmp/x', '../x', rnd()]) }),
    () => JSON.stringify({ name: 'ok', type: pick(['fullStack', 'devDeploy', 'webTier', 'codeQuality']), repositoryId: pick(['1', '999']), branch: 'main', environments: { dev: pick(['1', '2', '999']), stage: rnd() } }),
  ];
  return String(pick(choices)());
}

let h: Harness;
let templates: string[];

beforeAll(async () => {
  h = await makeHarness({ handlers: { buildLogMs: 10 } });
  const doc = (await h.app.inject({ url: '/api/openapi.json', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json() as { paths: Record<string, unknown> };
  templates = Object.keys(doc.paths);
});
afterAll(async () => {
  await h?.close();
});

describe('fuzz', () => {
  it(`answers ${REQUESTS} malformed requests without a 5xx`, async () => {
    const r = prng(0x5eed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
    const valid: Record<string, string> = {
      programId: h.programId, pipelineId: pick([h.fullStack.id, h.codeQuality.id]), environmentId: h.env.dev,
      repositoryId: h.repositoryId, executionId: '1', phaseId: '11', stepId: '1', tenantId: 'default', file: 'main', artifactId: '0123456789abcdef',
    };
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    let huge = 0;
    const one = async (i: number) => {
      const template = pick(templates);
      const late = i > REQUESTS * 0.9; // destructive requests with valid ids only near the end
      let method: string = r() < 0.6 ? pick(METHODS) : 'GET';
      let url = template.replace(/\{(\w+)\}/g, (_, name: string) => (r() < 0.4 ? valid[name] ?? '1' : encodeURI(pick(BAD_SEGMENTS))));
      // An event stream of a live execution (or a program) never ends by design; its valid form is tested elsewhere.
      if (template.endsWith('/events')) url = url.replace(/\/execution\/\d+/, '/execution/999999');
      if (template.endsWith('/events/stream')) url = url.replace(/\/program\/\d+/, '/program/999999');
      if (method === 'DELETE' && !late) url = url.replace(/\/(program|pipeline|environment)\/\d+/g, '/$1/999999');
      if (r() < 0.05) url = url.replace('/api/', pick(['/api/../', '/api/%2e%2e/', '/API/', '/api//', '/api/./']));
      url += pick(BAD_QUERIES);
      const headers: Record<string, string> = {};
      const auth = r();
      if (auth < 0.85) headers.authorization = `Bearer ${ADMIN_TOKEN}`;
      else if (auth < 0.93) headers.authorization = pick(['Bearer', 'Bearer x', 'Basic YTpi', `Bearer ${'a'.repeat(2000)}`, 'bearer  💥']);
      if (r() < 0.3) headers.accept = pick(['application/json', 'text/html', '*/*', '']);
      if (r() < 0.1) headers.range = pick(['bytes=0-', 'bytes=-5', 'bytes=9-1', 'bytes=abc', 'bytes=0-1,3-4', 'bytes=99999999999999999999-']);
      let payload: string | undefined;
      if (method !== 'GET' && method !== 'HEAD' && r() < 0.8) {
        payload = huge < 15 && r() < 0.01 ? (huge++, `{"name":"${'x'.repeat(2 * 1024 * 1024)}"}`) : badBodies(r);
        const ct = pick(CONTENT_TYPES);
        if (ct) headers['content-type'] = ct;
      }
      if (r() < 0.02) method = pick(['TRACE', 'PROPFIND', 'SEARCH']);
      try {
        const res = await h.app.inject({ method: method as 'GET', url, headers, ...(payload !== undefined ? { payload } : {}) });
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        if (res.statusCode >= 500) failures.push(`${method} ${url} -> ${res.statusCode} ${res.body.slice(0, 200)}`);
      } catch (e) {
        failures.push(`${method} ${url} threw ${String(e)}`);
      }
    };
    const CONCURRENCY = 8;
    for (let i = 0; i < REQUESTS; i += CONCURRENCY) {
      await Promise.all(Array.from({ length: Math.min(CONCURRENCY, REQUESTS - i) }, (_, k) => one(i + k)));
    }
    const total = [...statuses.values()].reduce((a, b) => a + b, 0);
    expect(failures.slice(0, 10)).toEqual([]);
    expect(total).toBe(REQUESTS);
    // The server still answers normally afterwards.
    expect((await h.app.inject({ url: '/api/health' })).statusCode).toBe(200);
    console.log('fuzz statuses', Object.fromEntries([...statuses.entries()].sort((a, b) => a[0] - b[0])));
  }, 120_000);
});
