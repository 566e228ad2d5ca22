// What a newcomer does: a fresh clone, `npm start` in the background, then through the CLI
// only: start the demo pipeline, approve, wait for the end. Then the production load balancer
// serves the new release, and the execution screen in headless Chromium shows every step
// finished; its screenshot is the README's (docs/execution-screen.png). The demo's environments
// run on containers wherever podman works.
// One shortcut, said plainly: the clone gets this checkout's node_modules by symlink, because
// `npm ci` there would repeat the same install (and a minute of native compilation).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { createSlipway } from '../../src/app.ts';
import { freePort } from '../../src/runner/free-port.ts';
import { listEnvironments } from '../../src/store/environments.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../web/chromium.ts';
import { containersProblem } from '../topology/support.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const SCREENSHOT = join(REPO, 'docs', 'execution-screen.png');
const TOKEN = 'slw_newcomer_test_token_0123456789';

const dir = mkdtempSync(join(tmpdir(), 'slipway-newcomer-'));
const clone = join(dir, 'slipway');
const dataDir = join(dir, 'data');
let server: ChildProcess | undefined;

afterAll(async () => {
  if (server?.pid && server.exitCode === null) {
    const exited = new Promise((r) => server!.once('exit', r));
    try { process.kill(-server.pid, 'SIGTERM'); } catch { /* already gone */ }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
  }
  // The environments' nodes outlive the server by design; this test tears them down.
  try {
    const slipway = await createSlipway({ dataDir }, { runEngine: false });
    for (const env of await listEnvironments(slipway.rt.db.kysely)) await slipway.driver.destroy(env).catch(() => undefined);
    await slipway.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('a newcomer', () => {
  it('clones, runs npm start, deploys the demo through the CLI, and sees it in the UI', async () => {
    execFileSync('git', ['clone', '-q', REPO, clone]);
    // npm start reinstalls when node_modules came from another lockfile; then this shortcut is void.
    const lockHash = createHash('sha256').update(readFileSync(join(clone, 'package-lock.json'))).digest('hex');
    expect(readFileSync(join(REPO, 'node_modules', '.slipway-lock-hash'), 'utf8').trim(), 'node_modules matches the lockfile').toBe(lockHash);
    symlinkSync(join(REPO, 'node_modules'), join(clone, 'node_modules'));
    const port = await freePort();
    const env = { ...process.env, SLIPWAY_DATA: dataDir, SLIPWAY_PORT: String(port), SLIPWAY_ADMIN_TOKEN: TOKEN };
    server = spawn('npm', ['start'], { cwd: clone, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    server.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
    server.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
    const deadline = Date.now() + 120_000;
    while (!output.includes('Open the UI:')) {
      if (Date.now() > deadline || server.exitCode !== null) throw new Error(`npm start did not get ready:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(output).toContain(`/ui/#token=${TOKEN}`);

    const cli = (...args: string[]) => execFileSync(process.execPath, ['bin/slipway.js', ...args], {
      cwd: clone, env: { ...env, SLIPWAY_URL: `http://127.0.0.1:${port}`, SLIPWAY_TOKEN: TOKEN }, encoding: 'utf8', timeout: 600_000,
    });
    const [pipeline] = JSON.parse(cli('list-pipelines', '--json')) as { id: string }[];
    const started = JSON.parse(cli('start-execution', pipeline!.id, '--json')) as { id: string; artifactsVersion: string };
    try {
      cli('wait-execution', pipeline!.id, started.id, '--until-waiting', '--interval', '0.5');
    } catch (err) {
      // What the failing step said: a failure on a loaded machine is otherwise only its reason.
      const log = (action: string) => { try { return cli('get-execution-step-log', pipeline!.id, started.id, action); } catch { return ''; } };
      const execution = await fetch(`http://127.0.0.1:${port}/api/program/1/pipeline/${pipeline!.id}/execution/${started.id}`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      }).then((r) => r.json() as Promise<{ _embedded?: { stepStates?: { action: string; status: string }[] } }>).catch(() => ({ _embedded: undefined }));
      const steps = execution._embedded?.stepStates ?? [];
      const failed = steps.filter((s) => s.status === 'FAILED' || s.status === 'ERROR').map((s) => s.action);
      const logs = [...new Set(['build', ...failed])].map((action) => `${action} log:\n${log(action)}`).join('\n');
      throw new Error(`${(err as Error).message}\n${logs}\nserver:\n${output.slice(-4000)}`);
    }
    expect(cli('advance-current-execution', pipeline!.id)).toMatch(/approval/);
    const ended = JSON.parse(cli('wait-execution', pipeline!.id, started.id, '--interval', '0.5', '--json')) as {
      status: string; _embedded: { stepStates: { action: string; status: string }[] };
    };
    expect(ended.status).toBe('FINISHED');

    // The production load balancer serves the release this execution built.
    const headers = { authorization: `Bearer ${TOKEN}` };
    const envs = await (await fetch(`http://127.0.0.1:${port}/api/program/1/environments`, { headers })).json() as {
      _embedded: { environments: { id: string; type: string; driver: string }[] };
    };
    const prod = envs._embedded.environments.find((e) => e.type === 'prod')!;
    const topology = await (await fetch(`http://127.0.0.1:${port}/api/program/1/environment/${prod.id}/topology`, { headers })).json() as {
      loadBalancer: { url: string }; publish: { container?: string }[];
    };
    // The demo's environments run on containers wherever podman works: each publish node is one.
    const onContainers = await containersProblem() === undefined;
    expect(envs._embedded.environments.map((e) => e.driver)).toEqual(envs._embedded.environments.map(() => (onContainers ? 'containers' : 'local')));
    if (onContainers) for (const node of topology.publish) expect(node.container).toMatch(/^slipway-/);
    const page = await fetch(`${topology.loadBalancer.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('x-app-version')).toBe(started.artifactsVersion);

    // The execution screen shows every step finished.
    const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    try {
      const ui = await browser.newPage({ viewport: { width: 1360, height: 1000 } });
      await ui.goto(`http://127.0.0.1:${port}/ui/#token=${TOKEN}`);
      await ui.getByRole('heading', { name: 'Programs' }).waitFor({ timeout: 20_000 });
      await ui.goto(`http://127.0.0.1:${port}/ui/#/program/1/pipeline/${pipeline!.id}/execution/${started.id}`);
      const steps = ended._embedded.stepStates.length;
      await expect.poll(() => ui.locator('li.step[data-status="FINISHED"]').count(), { timeout: 30_000 }).toBe(steps);
      await ui.locator('#experience-audit').waitFor({ timeout: 20_000 });
      await ui.waitForTimeout(500);
      mkdirSync(join(REPO, 'docs'), { recursive: true });
      await ui.screenshot({ path: SCREENSHOT, fullPage: true });
    } finally {
      await browser.close();
    }
  }, 600_000);
});
