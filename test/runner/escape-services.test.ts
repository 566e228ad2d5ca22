// Escape attempts by the repository code that runs as a service outside the build: the app's
// start command on the local driver, a UI test that hands chromedriver its own `binary`, and
// the pages Lighthouse opens. Each runs through the real sandbox (bubblewrap, pasta, the
// unprivileged account) and must stay contained; cancelling an audit mid-way leaves this
// process alive and no Chromium of the step behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startAppNode } from '../../src/topology/local/nodes.ts';
import { isOurProcess, stopProcess, type ProcessRecord } from '../../src/topology/local/proc.ts';
import { freePort } from '../../src/runner/free-port.ts';
import { uiTest } from '../../src/steps/ui-test.ts';
import { contentAudit } from '../../src/steps/content-audit.ts';
import { startNodeServer, staticView, type RunningApp } from '../support/static-topology.ts';
import { hostProcesses, processesWith } from '../support/processes.ts';
import type { TestStepContext } from '../support/step-context.ts';
import { stageContext } from '../stage-testing/stage-context.ts';
import { eventually } from '../support/eventually.ts';

const AUDIT_SITE = fileURLToPath(new URL('../stage-testing/audit-site.mjs', import.meta.url));
const SERVER = `probe-server-${process.pid}.cjs`;

let scratch: string;
let dataDir: string;
let hostFile: string;
let hostService: Server;
let hostServicePort: number;
const contexts: TestStepContext[] = [];

function deepWorkDir(name: string): string {
  return join(scratch, 'data-of-a-real-install', 'work', '1234567890', `${name}-step-0123456789abcdef`);
}

const waitFor = (check: () => Promise<boolean> | boolean, ms: number): Promise<boolean> => eventually(check, ms).catch(() => false);

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'slipway-escape-'));
  dataDir = join(scratch, 'data');
  await mkdir(join(dataDir, 'secrets'), { recursive: true });
  await writeFile(join(dataDir, 'secrets', 'signing.key'), 'the-signing-key');
  await writeFile(join(dataDir, 'slipway.db'), 'database');
  hostFile = join(scratch, 'escaped.txt');
  // A loopback service of the host (Slipway's API, an admin port) that repository code must not reach.
  hostService = createServer((_req, res) => res.end('host secret'));
  await new Promise<void>((resolve) => hostService.listen(0, '127.0.0.1', resolve));
  const address = hostService.address();
  hostServicePort = typeof address === 'object' && address ? address.port : 0;
});

afterAll(async () => {
  await new Promise((resolve) => hostService?.close(resolve));
  for (const ctx of contexts) ctx.cleanup();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

// The app answers /probe with what it could do from inside; its start line tries the escapes.
const PROBE_SERVER = `
const http = require('node:http');
const fs = require('node:fs');
const probe = async () => {
  const out = { uid: process.getuid() };
  try { out.dataDir = fs.readdirSync(${JSON.stringify('DATA')}); } catch (e) { out.dataDir = e.code; }
  try { fs.writeFileSync('rootfs-write.txt', 'x'); out.rootfsWritable = true; } catch (e) { out.rootfsWritable = e.code; }
  try { fs.writeFileSync(process.env.HOME + '/private.txt', 'x'); out.privateWritable = true; } catch (e) { out.privateWritable = e.code; }
  try { out.hostService = await (await fetch('http://127.0.0.1:' + process.env.HOST_SERVICE_PORT + '/', { signal: AbortSignal.timeout(2000) })).text(); } catch (e) { out.hostService = 'unreachable'; }
  return out;
};
process.on('SIGTERM', () => { fs.writeFileSync(process.env.HOME + '/got-sigterm', 'yes'); process.exit(0); });
http.createServer(async (req, res) => {
  res.end(req.url === '/probe' ? JSON.stringify(await probe()) : 'ok');
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

describe('the app start command on the local driver', () => {
  let record: ProcessRecord | undefined;
  let port: number;
  let runDir: string;
  // Whatever the tests' outcome, the server they started does not outlive them.
  afterAll(async () => { if (record && isOurProcess(record)) await stopProcess(record, 5000); });

  it('runs as the unprivileged user: no data dir, read-only image, no host loopback, no host file', async () => {
    const rootfs = join(dataDir, 'environments', 'e1', 'images', 'abc', 'rootfs');
    await mkdir(rootfs, { recursive: true });
    // A name of this run's own: the process checks below must not count another run's server.
    await writeFile(join(rootfs, SERVER), PROBE_SERVER.replace('DATA', dataDir));
    runDir = join(dataDir, 'environments', 'e1', 'run', 'publish-1');
    const logDir = join(dataDir, 'environments', 'e1', 'logs');
    await mkdir(logDir, { recursive: true });
    port = await freePort();
    // `exec` in the start line: the stop below must still reach the server.
    const start = `id > ${hostFile}; ls -la ${dataDir} ${join(dataDir, 'secrets')} >> ${hostFile} 2>&1; exec node ${SERVER}`;
    const spawned = await startAppNode({
      environmentId: 'e1', node: { name: 'publish-1', role: 'publish' }, port, logDir, runDir, envDir: join(dataDir, 'environments', 'e1'),
      image: { rootfs, config: { cmd: ['/bin/sh', '-c', start] } },
      release: { version: '1', appImage: 'sha256:abc', variables: { HOST_SERVICE_PORT: String(hostServicePort) } },
      hidePaths: [dataDir], log: () => undefined,
    });
    record = spawned.record;
    // Each attempt bounded: a connection that pasta accepted before the app listened may never be answered.
    const up = await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) })
      .then((r) => r.text(), () => '')) === 'ok', 20_000);
    expect(up, await readFile(join(logDir, 'publish-1.log'), 'utf8').catch(() => 'no log')).toBe(true);
    const seen = await (await fetch(`http://127.0.0.1:${port}/probe`, { signal: AbortSignal.timeout(10_000) })).json() as Record<string, unknown>;
    expect(seen.uid).not.toBe(0);
    expect(seen.dataDir === 'ENOENT' || (Array.isArray(seen.dataDir) && !seen.dataDir.includes('secrets'))).toBe(true);
    expect(seen.rootfsWritable).not.toBe(true);
    expect(seen.privateWritable).toBe(true);
    expect(seen.hostService).toBe('unreachable');
    expect(existsSync(hostFile)).toBe(false);
    expect(existsSync(join(rootfs, 'rootfs-write.txt'))).toBe(false);
    // Its processes on the host: none as root below the sandbox's own wrappers.
    const server = hostProcesses(SERVER).filter((p) => p.cmdline.startsWith('node'));
    expect(server.length).toBe(1);
    expect(server[0]?.uid).not.toBe(0);
    expect(isOurProcess(record)).toBe(true);
  }, 60_000);

  it('is stopped gracefully despite `exec` in its start line, with nothing left', async () => {
    expect(record).toBeDefined();
    await stopProcess(record, 5000);
    expect(isOurProcess(record)).toBe(false);
    expect(hostProcesses(SERVER).filter((p) => p.cmdline.startsWith('node'))).toEqual([]);
    expect(existsSync(join(runDir, 'got-sigterm'))).toBe(true);
    expect(await fetch(`http://127.0.0.1:${port}/`).then(() => 'answered', () => 'refused')).toBe('refused');
  }, 30_000);
});

describe('a UI test that hands chromedriver its own binary', () => {
  let site: RunningApp;
  beforeAll(async () => { site = await startNodeServer(AUDIT_SITE, {}); });
  afterAll(async () => { await site?.stop(); });

  it('runs that binary inside its sandbox as the unprivileged user, never on the host', async () => {
    const bundle = join(scratch, 'binary-trick');
    await mkdir(bundle, { recursive: true });
    await writeFile(join(bundle, 'testing.properties'), 'ui-tests.version=1\n');
    await writeFile(join(bundle, 'evil.sh'), `#!/bin/sh\nid -u > "$REPORTS_PATH/binary-uid.txt"\nid > ${hostFile}\nls ${dataDir} >> "$REPORTS_PATH/binary-uid.txt" 2>&1\nexit 1\n`, { mode: 0o755 });
    await writeFile(join(bundle, 'run.mjs'), [
      "import { writeFileSync } from 'node:fs';",
      "const base = process.env.SELENIUM_BASE_URL;",
      "const res = await fetch(base + '/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ capabilities: { alwaysMatch: { browserName: 'chrome', 'goog:chromeOptions': { binary: process.cwd() + '/evil.sh', args: ['--headless'] } } } }) });",
      "console.log('session answer', res.status);",
      "writeFileSync(process.env.REPORTS_PATH + '/ui.xml', '<testsuite name=\"t\" tests=\"1\"><testcase name=\"binary\"/></testsuite>');",
    ].join('\n'));
    const ctx = await stageContext({
      action: 'uiTest', view: staticView(site.url, site.url), bundles: [{ type: 'UI_TESTS', dir: bundle }],
      contract: { tests: { ui: { path: 'tests/ui', command: 'node run.mjs', timeoutMinutes: 2 } } },
    });
    contexts.push(ctx);
    const result = await uiTest.run(ctx);
    expect(result.outcome, ctx.log.text()).toBe('finished');
    expect(ctx.log.text()).toMatch(/chromedriver \d+ listening on .* as uid [1-9]\d*/);
    const ran = await readFile(join(ctx.workDir, 'reports', 'binary-uid.txt'), 'utf8');
    expect(Number(ran.split('\n')[0])).toBeGreaterThan(0);
    expect(ran).not.toContain('secrets');
    expect(existsSync(hostFile)).toBe(false);
    expect(processesWith('evil.sh')).toEqual([]);
  }, 90_000);

  it('cancelled mid-way with a browser open: nothing of the step is left, this process lives on', async () => {
    const bundle = join(scratch, 'slow-ui');
    await mkdir(bundle, { recursive: true });
    await writeFile(join(bundle, 'testing.properties'), 'ui-tests.version=1\n');
    // The profile's name finds this step's Chromium on the host, in a container (HOME is the
    // container's) as in the sandbox (HOME is in the step's dir).
    const profile = `profile-${process.pid}-${Date.now()}`;
    await writeFile(join(bundle, 'run.mjs'), [
      "const base = process.env.SELENIUM_BASE_URL;",
      `const caps = { alwaysMatch: { browserName: 'chrome', 'goog:chromeOptions': { binary: process.env.CHROME_BIN, args: ['--headless', '--no-sandbox', '--disable-gpu', '--user-data-dir=' + process.env.HOME + '/${profile}'] } } };`,
      "const res = await fetch(base + '/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ capabilities: caps }) });",
      "console.log('session', res.status);",
      'await new Promise((r) => setTimeout(r, 120_000));',
    ].join('\n'));
    const abort = new AbortController();
    const ctx = await stageContext({
      action: 'uiTest', view: staticView(site.url, site.url), bundles: [{ type: 'UI_TESTS', dir: bundle }], signal: abort.signal, workDir: deepWorkDir('ui'),
      contract: { tests: { ui: { path: 'tests/ui', command: 'node run.mjs', timeoutMinutes: 2 } } },
    });
    contexts.push(ctx);
    const running = uiTest.run(ctx);
    expect(await waitFor(() => ctx.log.text().includes('session 200'), 30_000), ctx.log.text()).toBe(true);
    expect(processesWith(profile).length).toBeGreaterThan(0); // Chromium with the step's profile
    abort.abort();
    expect(await running).toMatchObject({ outcome: 'failed', reason: 'cancelled' });
    expect(await waitFor(() => processesWith(ctx.workDir).length === 0, 5000), JSON.stringify(hostProcesses(ctx.workDir))).toBe(true);
    expect(await waitFor(() => processesWith(profile).length === 0, 5000), JSON.stringify(hostProcesses(profile))).toBe(true);
    expect(() => process.kill(process.pid, 0)).not.toThrow();
  }, 90_000);
});

describe('the experience audit', () => {
  let site: RunningApp;
  beforeAll(async () => { site = await startNodeServer(AUDIT_SITE, {}); });
  afterAll(async () => { await site?.stop(); });

  it('opens the pages in a Chromium that runs as the unprivileged user', async () => {
    // A work dir as deep as a real install's: Chromium's singleton socket must still fit.
    const ctx = await stageContext({ action: 'contentAudit', view: staticView(site.url, site.url), options: { auditPaths: ['/'], auditRuns: 1 }, workDir: deepWorkDir('audit') });
    contexts.push(ctx);
    const result = await contentAudit.run(ctx);
    expect(result.outcome, ctx.log.text()).toBe('finished');
    expect(ctx.log.text()).toMatch(/chromium \d+ started as uid [1-9]\d*/);
    expect(ctx.log.text()).toContain('performance: ');
    expect(processesWith(ctx.workDir)).toEqual([]);
  }, 90_000);

  it('cancelled mid-way: the step ends cancelled, this process lives on, no Chromium of the step is left', async () => {
    const stray: unknown[] = [];
    const onStray = (err: unknown): void => { stray.push(err); };
    process.on('unhandledRejection', onStray);
    try {
      const abort = new AbortController();
      const ctx = await stageContext({
        action: 'contentAudit', view: staticView(site.url, site.url), options: { auditPaths: ['/'], auditRuns: 3 }, signal: abort.signal,
      });
      contexts.push(ctx);
      const running = contentAudit.run(ctx);
      // Mid-way: once Chromium is up and Lighthouse is loading the page.
      expect(await waitFor(() => /chromium \d+ started/.test(ctx.log.text()), 30_000), ctx.log.text()).toBe(true);
      await new Promise((r) => setTimeout(r, 2500));
      expect(processesWith(ctx.workDir).length).toBeGreaterThan(0);
      abort.abort();
      const result = await running;
      expect(result).toMatchObject({ outcome: 'failed', reason: 'cancelled' });
      expect(await waitFor(() => processesWith(ctx.workDir).length === 0, 5000)).toBe(true);
      await new Promise((r) => setTimeout(r, 1000)); // room for a stray rejection to surface
      expect(stray).toEqual([]);
      expect(() => process.kill(process.pid, 0)).not.toThrow();
    } finally {
      process.off('unhandledRejection', onStray);
    }
  }, 90_000);
});
