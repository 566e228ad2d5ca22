// The local driver end to end on a small environment: provision (503 before any release),
// first deploy, dispatcher rules (cache HIT, 403, 405), describe, flush, supervision, adopt.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { LocalDriver } from '../../src/topology/local/local-driver.ts';
import { loadState } from '../../src/topology/local/state.ts';
import { httpGet } from '../../src/topology/local/http.ts';
import { pidAlive } from '../../src/runner/pids.ts';
import { deployOptions, environment, makeFixture, release, waitUntil, type Fixture } from './support.ts';
import type { DeployDone, DeployProgress } from '../../src/topology/driver.ts';

let fx: Fixture;
let driver: LocalDriver;
const env = environment('basic', 2);

function post(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent: false }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
    req.on('error', reject);
    req.end('x');
  });
}

beforeAll(async () => {
  fx = await makeFixture();
  driver = new LocalDriver({ dataDir: fx.dataDir, store: fx.store, healthTimeoutMs: 10_000 });
});

afterAll(async () => {
  await driver.destroy(env).catch(() => undefined);
  driver.close();
  fx.cleanup();
});

describe('LocalDriver', () => {
  it('provisions an environment that answers 503 until the first deploy', async () => {
    const topology = await driver.provision(env) as { loadBalancer: { port: number } };
    const lb = topology.loadBalancer.port;
    expect((await httpGet(lb, '/')).status).toBe(503);
    const view = await driver.describe(env);
    expect(view.publish).toHaveLength(2);
    expect(view.dispatchers.map((d) => d.lbState)).toEqual(['READY', 'READY']);
    expect(view.loadBalancer.healthy).toBe(false);
    expect(await driver.entryPoints(env)).toEqual({ publish: `http://127.0.0.1:${lb}` }); // no author before a release runs
  });

  it('deploys the first release and applies the dispatcher package', async () => {
    const progress: DeployProgress[] = [];
    const outcome = await driver.deploy(env, release(fx, 'v1', { GREETING: 'hi' }), deployOptions(progress));
    expect(outcome).toEqual({ outcome: 'deployed' });
    expect(progress.filter((p) => p.action === 'attach' && p.status === 'FINISHED').map((p) => p.node)).toEqual(['dispatcher-1', 'dispatcher-2']);
    const view = await driver.describe(env);
    expect(view.author.release?.version).toBe('v1');
    expect(await driver.entryPoints(env)).toEqual({ author: view.author.url, publish: view.loadBalancer.url });
    expect((await fetch(`${view.author.url}/page`)).headers.get('x-app-version')).toBe('v1');
    expect(view.publish.map((p) => [p.release?.version, p.healthy])).toEqual([['v1', true], ['v1', true]]);
    const lb = Number(new URL(view.loadBalancer.url).port);
    const page = await httpGet(lb, '/page');
    expect(page.status).toBe(200);
    expect(page.headers['x-app-version']).toBe('v1');
    expect(String(page.headers['x-dispatcher'])).toMatch(/^dispatcher-[12]$/);
    const d1 = Number(new URL(view.dispatchers[0]?.url ?? '').port);
    expect((await httpGet(d1, '/assets/app.css')).headers['x-cache']).toBe('HIT'); // warmed by the deploy
    expect((await httpGet(d1, '/page')).headers['x-cache']).toBe('MISS');
    expect((await httpGet(d1, '/admin/x')).status).toBe(403);
    expect(await post(d1, '/page')).toBe(405);
    const after = await driver.describe(env);
    expect(after.dispatchers[0]?.cache?.hits).toBeGreaterThan(0);
    await driver.flushCaches(env);
    expect((await httpGet(d1, '/assets/app.css')).headers['x-cache']).toBe('MISS');
  });

  it('deploying the release it already runs takes every node through the cycle again', async () => {
    const before = await loadState(driver.envDir(env));
    const d1 = before?.dispatchers[0]?.port ?? 0;
    // Cached but not a warm-up path: the flush must drop it, the warm-up must not bring it back.
    await httpGet(d1, '/assets/other.css');
    expect((await httpGet(d1, '/assets/other.css')).headers['x-cache']).toBe('HIT');
    const progress: DeployProgress[] = [];
    const outcome = await driver.deploy(env, release(fx, 'v1', { GREETING: 'hi' }), deployOptions(progress));
    expect(outcome).toEqual({ outcome: 'deployed' });
    const finished = progress.filter((p) => p.status === 'FINISHED').map((p) => `${p.node} ${p.action}`);
    expect(finished).toEqual(expect.arrayContaining(['author deploy', 'publish-1 deploy', 'publish-2 deploy']));
    for (const d of ['dispatcher-1', 'dispatcher-2']) {
      expect(finished.filter((f) => f.startsWith(`${d} `))).toEqual([`${d} drain`, `${d} drainWait`, `${d} deploy`, `${d} flush`, `${d} warm`, `${d} health`, `${d} attach`]);
    }
    // The seed's order, with each new publish process started beside the old one before its
    // pair is drained: author done before any pair leaves the load balancer, and a pair leaves
    // it only once its new process is healthy.
    const at = (node: string, action: string, status: string) => progress.findIndex((p) => p.node === node && p.action === action && p.status === status);
    expect(at('author', 'deploy', 'FINISHED')).toBeLessThan(at('dispatcher-1', 'drain', 'RUNNING'));
    for (const i of [1, 2]) {
      expect(at(`publish-${i}`, 'start', 'FINISHED')).toBeGreaterThan(-1);
      expect(at(`publish-${i}`, 'start', 'FINISHED')).toBeLessThan(at(`dispatcher-${i}`, 'drain', 'RUNNING'));
    }
    expect(progress.find((p) => p.node === 'publish-1' && p.action === 'start' && p.status === 'FINISHED')?.message).toMatch(/^healthy after \d+ ms$/);
    const after = await loadState(driver.envDir(env));
    const pids = (s: typeof before) => [s?.author.process?.pid, ...(s?.publish ?? []).map((p) => p.process?.pid)];
    for (const [i, pid] of pids(after).entries()) expect(pid).not.toBe(pids(before)[i]);
    expect(after?.publish.map((p) => p.release?.version)).toEqual(['v1', 'v1']);
    expect((await httpGet(d1, '/assets/other.css')).headers['x-cache']).toBe('MISS');
    expect((await httpGet(d1, '/assets/app.css')).headers['x-cache']).toBe('HIT');
  });

  it('a resumed deploy leaves out what it already completed and reports what it completes', async () => {
    const progress: DeployProgress[] = [];
    const planned: string[] = [];
    const done: DeployDone[] = [];
    const outcome = await driver.deploy(env, release(fx, 'v1', { GREETING: 'hi' }), deployOptions(progress, {
      done: { author: true, pairs: [0] },
      onPlan: (commands) => planned.push(...commands.map((c) => `${c.node} ${c.action}`)),
      onDone: (d) => done.push(d),
    }));
    expect(outcome).toEqual({ outcome: 'deployed' });
    expect(new Set(progress.map((p) => p.node))).toEqual(new Set(['dispatcher-2', 'publish-2']));
    expect(planned).toEqual(['publish-2 start', 'dispatcher-2 drain', 'dispatcher-2 drainWait', 'publish-2 deploy', 'dispatcher-2 deploy',
      'dispatcher-2 flush', 'dispatcher-2 warm', 'dispatcher-2 health', 'dispatcher-2 attach']);
    expect(done).toEqual([{ author: true, pairs: [0, 1] }]);
  });

  it('restarts an app node that dies, and adopt restarts dead nodes', async () => {
    const dir = driver.envDir(env);
    const before = await loadState(dir);
    const pid = before?.publish[0]?.process?.pid ?? 0;
    process.kill(-pid, 'SIGKILL');
    await waitUntil(() => !pidAlive(pid), 5000);
    let restarted = 0;
    await waitUntil(() => false, 0).catch(() => undefined);
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const s = await loadState(dir);
      restarted = s?.publish[0]?.process?.pid ?? 0;
      if (restarted !== pid && pidAlive(restarted)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(restarted).not.toBe(pid);
    expect(pidAlive(restarted)).toBe(true);

    const d2 = before?.dispatchers[1]?.process?.pid ?? 0;
    process.kill(-d2, 'SIGKILL');
    await waitUntil(() => !pidAlive(d2), 5000);
    await driver.adopt(env);
    const after = await loadState(dir);
    expect(after?.dispatchers[1]?.process?.pid).not.toBe(d2);
    expect((await httpGet(after?.dispatchers[1]?.port ?? 0, '/health')).status).toBe(200);
  });
});
