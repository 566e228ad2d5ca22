// A rolling deploy of 3 pairs under constant load from a second process: keep-alive on, then
// `Connection: close`. No request may fail, every answer comes from the old or the new
// version, a drained dispatcher gets no load-balancer traffic until it is put back, and right
// after a pair is put back every warm-up path is a cache hit. Deploying the release already
// running (a re-execution) takes the same cycle with the same guarantees. On both drivers: app
// nodes as sandboxed processes (local) and as podman containers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalDriver } from '../../src/topology/local/local-driver.ts';
import { HaproxyAdmin } from '../../src/topology/local/haproxy.ts';
import { httpGet } from '../../src/topology/local/http.ts';
import { loadState, type TopologyState } from '../../src/topology/local/state.ts';
import type { DeployProgress } from '../../src/topology/driver.ts';
import type { Environment } from '../../src/domain/model.ts';
import {
  containersProblem, deployOptions, environment, makeDriver, makeFixture, release, startLoad, waitUntil, type DriverName, type Fixture,
} from './support.ts';

const WARM = ['/assets/app.css', '/assets/app.js'];
const noContainers = await containersProblem();
if (noContainers) console.warn(`zero-downtime on containers skipped: podman does not work here (${noContainers})`);

/** Polls HAProxy's stats: a server that is DRAIN with 0 in flight must not see its stot grow. */
function watchDrainedTraffic(socket: string): { stop(): Promise<string[]> } {
  const admin = new HaproxyAdmin(socket);
  const baseline = new Map<string, number>();
  const violations: string[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const s of await admin.servers().catch(() => [])) {
        if (!s.status.startsWith('DRAIN')) { baseline.delete(s.server); continue; }
        const base = baseline.get(s.server);
        if (base === undefined) { if (s.scur === 0) baseline.set(s.server, s.stot); } else if (s.stot > base) {
          violations.push(`${s.server}: stot ${base} -> ${s.stot} while drained`);
          baseline.set(s.server, s.stot);
        }
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  return { stop: async () => { running = false; await loop; return violations; } };
}

async function roll(fx: Fixture, driver: LocalDriver, env: Environment, state: TopologyState, to: string, keepAlive: boolean) {
  const load = startLoad({ port: state.loadBalancer.port, keepAlive, concurrency: 16, maxRequests: 60_000, maxMs: 45_000 });
  const drained = watchDrainedTraffic(state.loadBalancer.socket);
  const warmChecks: Promise<string>[] = [];
  const progress: DeployProgress[] = [];
  try {
    await waitUntil(() => load.count() >= 500, 15_000);
    const atStart = load.count();
    const outcome = await driver.deploy(env, release(fx, to), deployOptions(progress, {
      onProgress: (p) => {
        progress.push(p);
        if (p.action === 'attach' && p.status === 'FINISHED') {
          const port = state.dispatchers.find((d) => d.name === p.node)?.port ?? 0;
          for (const path of WARM) {
            warmChecks.push(httpGet(port, path).then((r) => `${p.node} ${path} ${String(r.headers['x-cache'])}`));
          }
        }
      },
    }));
    const during = load.count() - atStart;
    await waitUntil(() => load.count() >= 10_000, 40_000);
    const result = await load.stop();
    return { outcome, result, during, violations: await drained.stop(), warm: await Promise.all(warmChecks), progress };
  } finally {
    load.child.kill('SIGKILL');
    await drained.stop();
  }
}

describe.each(['local', 'containers'] as DriverName[])('rolling deploy under load on the %s driver', (driverName) => {
  let fx: Fixture;
  let driver: LocalDriver;
  let state: TopologyState;
  const env = environment(`zerodown-${driverName}`, 3, driverName);

  beforeAll(async () => {
    if (driverName === 'containers' && noContainers) return;
    fx = await makeFixture(driverName);
    driver = makeDriver(driverName, fx);
    await driver.provision(env);
    expect(await driver.deploy(env, release(fx, 'v1'), deployOptions())).toEqual({ outcome: 'deployed' });
    const loaded = await loadState(driver.envDir(env));
    if (!loaded) throw new Error('no state');
    state = loaded;
  }, 120_000);

  afterAll(async () => {
    if (!driver) return;
    await driver.destroy(env).catch(() => undefined);
    driver.close();
    fx.cleanup();
  });

  const rollUnderLoad = (from: string, to: string, keepAlive: boolean) => roll(fx, driver, env, state, to, keepAlive);

  it.skipIf(driverName === 'containers' && noContainers !== undefined).each([
    { from: 'v1', to: 'v2', keepAlive: true },
    { from: 'v2', to: 'v3', keepAlive: false },
    // A re-execution: the release every pair already runs goes through the whole cycle again.
    { from: 'v3', to: 'v3', keepAlive: true },
  ])('$from -> $to with keep-alive $keepAlive: no failed request', async ({ from, to, keepAlive }) => {
    const run = await rollUnderLoad(from, to, keepAlive);
    console.log(`${from}->${to} keepAlive=${keepAlive}: ${run.result.total} requests (${run.during} during the roll),`,
      JSON.stringify({ versions: run.result.versions, dispatchers: run.result.dispatchers, phases: run.result.phases }));
    expect(run.outcome).toEqual({ outcome: 'deployed' });
    expect(run.result.total).toBeGreaterThanOrEqual(10_000);
    expect(run.during).toBeGreaterThan(200); // the load really overlapped the roll
    expect(run.result.non2xx).toEqual({});
    expect(run.result.errors).toEqual({});
    expect(Object.keys(run.result.versions).sort()).toEqual(expect.arrayContaining([to]));
    for (const v of Object.keys(run.result.versions)) expect([from, to]).toContain(v);
    expect(run.violations).toEqual([]);
    // Each pair was drained, then put back, in order, one at a time (batch size 1).
    const attached = run.progress.filter((p) => p.action === 'attach' && p.status === 'FINISHED').map((p) => p.node);
    expect(attached).toEqual(['dispatcher-1', 'dispatcher-2', 'dispatcher-3']);
    // Right after a pair is put back, each warm-up path is a cache hit.
    expect(run.warm).toHaveLength(6);
    for (const line of run.warm) expect(line).toMatch(/ HIT$/);
    const view = await driver.describe(env);
    expect(view.publish.map((p) => p.release?.version)).toEqual([to, to, to]);
    // On containers, each publish node is a container named after its environment and node.
    if (driverName === 'containers') for (const p of view.publish) expect(p.container).toMatch(new RegExp(`^slipway-${env.id}-${p.name}-\\d+$`));
    expect(view.dispatchers.map((d) => d.lbState)).toEqual(['READY', 'READY', 'READY']);
  }, 180_000); // a bound, not a goal: container starts on a busy 2-core machine
});
