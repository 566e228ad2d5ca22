// Environment logs on a real local environment (app processes, Varnish, HAProxy): a request
// sent through the load balancer shows up in the logs served by the API, and Adobe's client
// (aio-lib-cloudmanager 3.1.2) lists the options, downloads the day files and tails one.
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/api/server.ts';
import { createSlipway, type Slipway } from '../../src/app.ts';
import { main } from '../../src/cli/program.ts';
import { buildImage } from '../../src/artifacts/oci.ts';
import { EXIT } from '../../src/cli/exit-codes.ts';
import { getEnvironment } from '../../src/store/environments.ts';
import { LOG_CATALOG } from '../../src/topology/local/node-logs.ts';
import { ADMIN_TOKEN, call as inject, type Harness } from './harness.ts';
import { testHandlers } from '../support/test-handlers.ts';
import { DISPATCHER_YAML, deployOptions } from '../topology/support.ts';
import { eventually } from '../support/eventually.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
interface LogsApi {
  listAvailableLogOptions(programId: string, environmentId: string): Promise<Json[]>;
  downloadLogs(programId: string, environmentId: string, service: string, name: string, days: number, dir: string): Promise<Json[]>;
  tailLog(programId: string, environmentId: string, service: string, name: string, out: Writable): Promise<void>;
}
const { init } = createRequire(import.meta.url)('@adobe/aio-lib-cloudmanager') as {
  init(orgId: string, apiKey: string, accessToken: string, baseUrl: string): Promise<LogsApi>;
};

// An app that says what it does on stdout, and on stderr for /fail.
const APP = `import { createServer } from 'node:http';
console.log('listening on ' + process.env.PORT + ' as ' + process.env.APP_MODE);
createServer((req, res) => {
  if (req.url !== '/health') (req.url === '/fail' ? console.error : console.log)('served ' + req.method + ' ' + req.url);
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('ok\\n');
}).listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
`;

const dir = mkdtempSync(join(tmpdir(), 'slipway-envlogs-'));
let slipway: Slipway;
let app: FastifyInstance;
let h: Harness;
let cm: LogsApi;
let programId: string;
let envId: string;
let envUrl: string;
let lbUrl: string;
let host = '';
let base = '';
const probe = `/probe-${randomUUID()}`;

/** In-process requests that name the listening server as their host (signed URLs point there). */
const call = (hh: Harness, method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown, token = ADMIN_TOKEN, headers: Record<string, string> = {}) =>
  inject(hh, method, url, body, token, { host, ...headers });

const until = <T>(what: string, get: () => Promise<T | undefined>): Promise<T> => eventually(get, 30_000, what);

/** The texts of a log's downloads of today through the API (download link → redirect → gunzip). */
async function todaysLogs(service: string, name: string): Promise<string[]> {
  const res = await call(h, 'GET', `${envUrl}/logs?service=${service}&name=${name}&days=1`);
  expect(res.status).toBe(200);
  const downloads = res.json._embedded.downloads as Json[];
  const links = downloads.flatMap((d) => [d._links['http://ns.adobe.com/adobecloud/rel/logs/download']].flat() as Json[]);
  const texts: string[] = [];
  for (const l of links) {
    const redirect = (await call(h, 'GET', l.href as string)).json.redirect as string;
    const body = await fetch(redirect);
    expect(body.headers.get('content-type')).toBe('application/gzip');
    texts.push(gunzipSync(Buffer.from(await body.arrayBuffer())).toString('utf8'));
  }
  return texts;
}

const logsContain = (service: string, name: string, needle: string, every = false) =>
  until(`${service}/${name} to contain ${needle}`, async () => {
    const texts = await todaysLogs(service, name);
    const ok = texts.length > 0 && (every ? texts.every((t) => t.includes(needle)) : texts.some((t) => t.includes(needle)));
    return ok ? texts : undefined;
  });

beforeAll(async () => {
  slipway = await createSlipway({ dataDir: join(dir, 'data') }, { handlers: testHandlers() });
  app = await buildServer(slipway, { adminToken: ADMIN_TOKEN });
  h = { app } as Harness;
  base = await app.listen({ port: 0, host: '127.0.0.1' });
  host = new URL(base).host;
  cm = await init('ORG@AdobeOrg', 'slipway-test-key', ADMIN_TOKEN, base);

  programId = (await call(h, 'POST', '/api/programs', { name: 'Logs program' })).json.id as string;
  // The image runs this machine's node: the local driver.
  const created = await call(h, 'POST', `/api/program/${programId}/environments`,
    { name: 'logs-stage', type: 'stage', publishCount: 2, driver: 'local' });
  envId = created.json.id as string;
  envUrl = created.json._links.self.href as string;
  await until('the environment to be ready', async () => ((await call(h, 'GET', envUrl)).json.status === 'ready' ? true : undefined));

  const src = join(dir, 'app');
  mkdirSync(join(src, 'dispatcher'), { recursive: true });
  writeFileSync(join(src, 'server.mjs'), APP);
  writeFileSync(join(src, 'dispatcher', 'dispatcher.yaml'), DISPATCHER_YAML);
  const appImage = await buildImage(slipway.artifacts, { dir: src, config: { cmd: ['sh', '-c', `${process.execPath} server.mjs`] } });
  const dispatcherImage = await buildImage(slipway.artifacts, { dir: join(src, 'dispatcher') });
  const env = await getEnvironment(slipway.rt.db.kysely, envId);
  if (!env) throw new Error('no environment');
  const outcome = await slipway.driver.deploy(env, { version: 'v1', appImage: appImage.digest, dispatcherImage: dispatcherImage.digest, variables: {} }, deployOptions());
  expect(outcome.outcome).toBe('deployed');
  lbUrl = (await call(h, 'GET', `${envUrl}/topology`)).json.loadBalancer.url as string;
  // Round robin over two dispatchers: four requests reach both pairs.
  for (let i = 0; i < 4; i++) expect((await fetch(`${lbUrl}${probe}`)).status).toBe(200);
}, 120_000);

afterAll(async () => {
  if (envUrl) await call(h, 'DELETE', envUrl).catch(() => undefined);
  await app?.close();
  await slipway?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('environment logs through the API', () => {
  it('advertises the logs the local driver keeps', async () => {
    const env = (await call(h, 'GET', envUrl)).json;
    expect(env.availableLogOptions).toEqual(LOG_CATALOG.map(({ service, name }) => ({ service, name })));
    expect(env._links['http://ns.adobe.com/adobecloud/rel/logs'].href).toBe(`${envUrl}/logs?service={service}&name={name}&days={days}`);
  });

  it('serves a request sent through the load balancer in the cdn, dispatcher and publish logs', async () => {
    const [cdn] = await logsContain('cdn', 'cdn', probe);
    expect(cdn).toMatch(new RegExp(`be/d[12] .* "GET ${probe} HTTP/1.1"`));
    // Both pairs got the request: one download link per node.
    expect(await logsContain('dispatcher', 'httpdaccess', `"GET http://127.0.0.1:${new URL(lbUrl).port}${probe} HTTP/1.1" 200`, true)).toHaveLength(2);
    const decisions = await logsContain('dispatcher', 'aemdispatcher', probe, true);
    expect(decisions.join('')).toMatch(new RegExp(`"GET ${probe} HTTP/1.1" 200 [0-9.]+s \\[(miss|pass)\\] dispatcher-[12]`));
    expect(await logsContain('publish', 'aemaccess', `GET http://127.0.0.1`, true)).toHaveLength(2);
    expect((await logsContain('publish', 'aemaccess', probe, true)).join('')).toContain(` 200 `);
    expect(await logsContain('publish', 'aemerror', `served GET ${probe}`, true)).toHaveLength(2);
    const requests = (await logsContain('publish', 'aemrequest', probe, true)).join('');
    expect(requests).toMatch(new RegExp(`\\[(\\d+)\\] -> GET ${probe} HTTP/1.1\\n.* \\[\\1\\] <- 200 text/plain \\d+ms\\n`));
    expect((await logsContain('author', 'aemerror', 'listening on'))[0]).toContain('as author');
    // varnishd's own output: its start-up lines.
    expect((await logsContain('dispatcher', 'httpderror', 'Child', true)).length).toBe(2);
  }, 90_000);

  it('answers bad queries with problem+json naming the field, and unknown logs or days with 404', async () => {
    const q = (query: string) => call(h, 'GET', `${envUrl}/logs?${query}`);
    for (const [query, field] of [['service=cdn&name=cdn&days=0', 'days'], ['service=cdn&name=cdn&days=8', 'days'],
      ['service=cdn&name=cdn&days=x', 'days'], ['name=cdn&days=1', 'service'], ['service=cdn&days=1', 'name'], ['service=../x&name=cdn&days=1', 'service']]) {
      const res = await q(query as string);
      expect(res.status, query).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(JSON.stringify(res.json.invalidParams), query).toContain(field);
    }
    expect((await q('service=preview&name=aemerror&days=1')).status).toBe(404);
    expect((await q('service=cdn&name=aemerror&days=1')).status).toBe(404);
    const download = (query: string) => call(h, 'GET', `${envUrl}/logs/download?${query}`);
    const today = new Date().toISOString().slice(0, 10);
    expect((await download('service=cdn&name=cdn&date=2020-01-01')).status).toBe(404);
    expect((await download(`service=cdn&name=cdn&date=${today}`)).status).toBe(200);
    expect((await download(`service=publish&name=aemerror&date=${today}&index=3`)).status).toBe(404);
    const noIndex = await download(`service=publish&name=aemerror&date=${today}`);
    expect(noIndex.status).toBe(400);
    expect(JSON.stringify(noIndex.json.invalidParams)).toContain('index');
    const badDate = await download('service=cdn&name=cdn&date=2026-02-30');
    expect(badDate.status).toBe(400);
    expect(JSON.stringify(badDate.json.invalidParams)).toContain('date');
    // Without Accept: application/json, a 307 to the same signed URL; a tampered one is refused.
    const redirect = await call(h, 'GET', `${envUrl}/logs/download?service=cdn&name=cdn&date=${today}`, undefined, ADMIN_TOKEN, { accept: '*/*' });
    expect(redirect.status).toBe(307);
    const tampered = String(redirect.headers.location).replace(/signature=[^&]+/, 'signature=AAAA');
    expect((await fetch(tampered)).status).toBe(403);
  });

  it('serves the tail link with HEAD and Range (206, then 416 at the end)', async () => {
    const res = await call(h, 'GET', `${envUrl}/logs?service=cdn&name=cdn&days=2`);
    const tail = res.json._embedded.downloads[0]._links['http://ns.adobe.com/adobecloud/rel/logs/tail'].href as string;
    const size = Number((await fetch(tail, { method: 'HEAD' })).headers.get('content-length'));
    expect(size).toBeGreaterThan(0);
    const part = await fetch(tail, { headers: { range: `bytes=${size - 10}-` } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toMatch(new RegExp(`^bytes ${size - 10}-\\d+/\\d+$`));
    expect((await fetch(tail, { headers: { range: `bytes=${size + 1000000}-` } })).status).toBe(416);
  });
});

/** Runs `slipway` in-process against the test server; its output is captured while it runs. */
async function slipwayCli(args: string[], out: string[]): Promise<number> {
  const write = process.stdout.write.bind(process.stdout);
  const writeErr = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array) => { out.push(Buffer.from(chunk).toString('utf8')); return true; }) as typeof process.stdout.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    return await main(['--base-url', base, '--token', ADMIN_TOKEN, '-p', programId, ...args]);
  } finally {
    process.stdout.write = write;
    process.stderr.write = writeErr;
  }
}

describe('the slipway CLI', () => {
  it('lists the log options and downloads a log per node and day', async () => {
    const listed: string[] = [];
    expect(await slipwayCli(['--json', 'list-available-log-options', envId], listed)).toBe(0);
    expect(JSON.parse(listed.join(''))).toContainEqual({ service: 'publish', name: 'aemaccess' });
    const out = join(dir, 'cli-downloads');
    const printed: string[] = [];
    expect(await slipwayCli(['--json', 'download-logs', envId, 'publish', 'aemerror', '2', '-o', out], printed)).toBe(0);
    const files = JSON.parse(printed.join('')) as { path: string }[];
    expect(files.map((f) => f.path).sort()).toEqual(readdirSync(out).map((f) => join(out, f)).sort());
    expect(files).toHaveLength(2);
    for (const f of files) expect(readFileSync(f.path, 'utf8')).toContain(`served GET ${probe}`);
    expect(await slipwayCli(['download-logs', envId, 'publish', 'nope'], [])).toBe(4);
  });
});

describe('Adobe\'s client', () => {
  it('lists the log options, downloads a day per node, and tails a log (as the CLI does) as a request arrives', async () => {
    expect(await cm.listAvailableLogOptions(programId, envId)).toContainEqual({ service: 'dispatcher', name: 'httpdaccess' });

    const out = join(dir, 'downloads');
    const downloaded = await cm.downloadLogs(programId, envId, 'dispatcher', 'httpdaccess', 1, out);
    expect(downloaded).toHaveLength(2);
    expect(readdirSync(out).sort()).toEqual(downloaded.map((d) => (d.path as string).slice(out.length + 1)).sort());
    for (const d of downloaded) expect(readFileSync(d.path as string, 'utf8')).toContain(probe);
    const [cdn] = await cm.downloadLogs(programId, envId, 'cdn', 'cdn', 1, out);
    expect(readFileSync(cdn?.path as string, 'utf8')).toContain(probe);

    const chunks: Buffer[] = [];
    const sink = new Writable({ write(chunk: Buffer, _enc, cb) { chunks.push(Buffer.from(chunk)); cb(); } });
    const tailing = cm.tailLog(programId, envId, 'cdn', 'cdn', sink);
    tailing.catch(() => undefined);
    const cliOut: string[] = [];
    const cliTail = slipwayCli(['tail-log', envId, 'cdn', 'cdn', '--interval', '0.2'], cliOut);
    const fresh = `/tailed-${randomUUID()}`;
    await until('the tail to show a new request', async () => {
      await fetch(`${lbUrl}${fresh}`);
      return Buffer.concat(chunks).toString('utf8').includes(fresh) && cliOut.join('').includes(fresh) ? true : undefined;
    });
    // Bounded: the tail ends once its log is gone (the environment deleted → 404).
    expect((await call(h, 'DELETE', envUrl)).status).toBe(204);
    envUrl = '';
    await expect(tailing).rejects.toThrow(/404/);
    expect(await cliTail).toBe(EXIT.notFound);
    expect(cliOut.join('')).not.toContain(probe);
    expect(Buffer.concat(chunks).toString('utf8')).not.toContain(probe); // it started at the end of the file
  }, 90_000);
});
