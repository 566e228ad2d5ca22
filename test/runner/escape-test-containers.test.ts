// Test bundles in containers (issue #12, item 4), in the style of the escape suites: the real
// functionalTest step runs a bundle that reports what it sees from inside. It runs in a podman
// container of the test image (Debian's node, not the host's; the bundle read-only at
// /tests; the unprivileged account), and its network reaches the stage environment and nothing else of the
// host: not Slipway's API (a real one, listening), not another environment's node (on loopback
// or on the host's own address), not the internet.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { functionalTest } from '../../src/steps/functional-test.ts';
import { sandboxHost } from '../../src/runner/sandbox-host.ts';
import { createSlipway, type Slipway } from '../../src/app.ts';
import { buildServer } from '../../src/api/server.ts';
import { SAMPLE_SERVER, startNodeServer, staticView, type RunningApp } from '../support/static-topology.ts';
import type { TestStepContext } from '../support/step-context.ts';
import { stageContext } from '../stage-testing/stage-context.ts';

const CONTRACT = { tests: { functional: { path: 'tests/functional', command: 'node run.mjs', timeoutMinutes: 5 } } };

let scratch: string;
let author: RunningApp;
let publish: RunningApp;
let slipway: Slipway;
let api: FastifyInstance;
let apiUrl: string;
let otherNode: Server;
let otherPort: number;
let otherHits = 0;
const contexts: TestStepContext[] = [];

/** This machine's own non-loopback IPv4 address (another way to the host's services). */
function hostAddress(): string | undefined {
  return Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
}

async function runProbe(name: string, script: string): Promise<{ ctx: TestStepContext; facts: Record<string, unknown> }> {
  const dir = join(scratch, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'run.mjs'), [
    "import { readFileSync, writeFileSync } from 'node:fs';",
    'const reach = (url) => fetch(url, { signal: AbortSignal.timeout(4000) }).then((r) => r.status, (e) => String(e.cause?.code ?? e.name));',
    'const facts = {};',
    script,
    "writeFileSync(process.env.REPORTS_PATH + '/facts.json', JSON.stringify(facts));",
    "writeFileSync(process.env.REPORTS_PATH + '/probe.xml', '<testsuite name=\"probe\" tests=\"1\"><testcase name=\"probe\"/></testsuite>');",
  ].join('\n'));
  const ctx = await stageContext({ action: 'functionalTest', view: staticView(author.url, publish.url), bundles: [{ type: 'FUNCTIONAL_TESTS', dir }], contract: CONTRACT });
  contexts.push(ctx);
  const result = await functionalTest.run(ctx);
  expect(result, ctx.log.text()).toMatchObject({ outcome: 'finished' });
  expect(ctx.log.text()).toContain('functional tests run in a container');
  const facts = JSON.parse(await readFile(join(ctx.workDir, 'reports', 'facts.json'), 'utf8')) as Record<string, unknown>;
  return { ctx, facts };
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'slipway-test-containers-'));
  [author, publish] = await Promise.all([
    startNodeServer(SAMPLE_SERVER, { APP_MODE: 'author', APP_DATA_DIR: join(scratch, 'author-data') }),
    startNodeServer(SAMPLE_SERVER, { APP_MODE: 'publish', APP_DATA_DIR: join(scratch, 'publish-data') }),
  ]);
  // A real Slipway API on the host's loopback, as `npm start` runs it.
  slipway = await createSlipway({ dataDir: join(scratch, 'slipway') }, { runEngine: false });
  api = await buildServer(slipway, { adminToken: 'escape-admin-token-0123456789abcdef' });
  await api.listen({ host: '127.0.0.1', port: 0 });
  apiUrl = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
  // A node of another environment (another program's publish), listening on every address.
  otherNode = createServer((_req, res) => { otherHits++; res.end('another environment'); });
  await new Promise<void>((r) => otherNode.listen(0, '0.0.0.0', r));
  otherPort = (otherNode.address() as AddressInfo).port;
}, 60_000);

afterAll(async () => {
  await Promise.all([author?.stop(), publish?.stop()]);
  await api?.close();
  await slipway?.close();
  await new Promise<void>((r) => (otherNode ? otherNode.close(() => r()) : r()));
  for (const ctx of contexts) ctx.cleanup();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('a test bundle in its container', () => {
  it('runs inside the container: Debian os-release, the image node, /tests, the unprivileged account, no host files', async () => {
    const hostMarker = join(scratch, 'host-only-marker');
    await writeFile(hostMarker, 'on the host');
    const { facts } = await runProbe('inside', [
      "facts.osRelease = readFileSync('/etc/os-release', 'utf8');",
      'facts.uid = process.getuid(); facts.cwd = process.cwd(); facts.node = process.version;',
      "facts.capEff = /CapEff:\\s+(\\w+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1];",
      `try { readFileSync(${JSON.stringify(hostMarker)}); facts.hostFile = 'readable'; } catch (e) { facts.hostFile = e.code; }`,
      'facts.reports = process.env.REPORTS_PATH; facts.publish = process.env.AEM_PUBLISH_URL;',
      "for (const [name, path] of [['bundle', '/tests/x'], ['system', '/usr/x'], ['home', process.env.HOME + '/x']]) { try { writeFileSync(path, 'x'); facts[name] = 'written'; } catch (e) { facts[name] = e.code; } }",
    ].join('\n'));
    expect(facts.osRelease).toMatch(/^ID=debian$/m);
    // The bundle ran with the test image's node (Debian's), not the host's.
    expect(facts.node).not.toBe(process.version);
    expect(facts.cwd).toBe('/tests');
    expect(facts.uid).toBe(sandboxHost().runAs?.uid);
    expect(facts.uid).not.toBe(0);
    expect(facts.capEff).toMatch(/^0+$/);
    expect(facts.hostFile).toBe('ENOENT');
    expect(facts.reports).toBe('/reports');
    expect([facts.bundle, facts.system, facts.home]).toEqual(['EROFS', 'EROFS', 'written']);
    expect(facts.publish).toBe(publish.url);
  }, 120_000);

  it('reaches stage and nothing else of the host: not Slipway\'s API, not another environment, not the internet', async () => {
    expect((await fetch(`${apiUrl}/api/programs`)).status).toBe(401); // the API is up (and wants a token)
    const address = hostAddress();
    const targets = {
      publish: publish.url, author: author.url, api: `${apiUrl}/api/programs`,
      otherLoopback: `http://127.0.0.1:${otherPort}/`,
      ...(address ? { otherHostAddress: `http://${address}:${otherPort}/`, apiHostAddress: `http://${address}:${new URL(apiUrl).port}/` } : {}),
      internet: 'http://deb.debian.org/',
    };
    const { facts } = await runProbe('network', `for (const [name, url] of Object.entries(${JSON.stringify(targets)})) facts[name] = await reach(url);`);
    expect(facts.publish).toBe(200);
    expect(facts.author).toBe(200);
    for (const name of Object.keys(targets).filter((n) => n !== 'publish' && n !== 'author')) {
      expect(typeof facts[name], `${name}: ${String(facts[name])}`).toBe('string'); // a network error, never an HTTP status
    }
    expect(otherHits).toBe(0);
  }, 120_000);
});
