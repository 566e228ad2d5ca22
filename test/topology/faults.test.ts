// A node killed with SIGKILL in the middle of a rolling deploy under load: a publish node (of
// a pair already rolled, or the new process of the pair in flight), a Varnish (of a pair in
// the load balancer, or of the pair being switched) or HAProxy itself. Nothing is lost: the
// deploy ends deployed or rolled back with a reason, the supervisor (or the deploy) restarts
// what was killed, every node runs and serves afterwards. Requests through the load balancer
// that failed during the roll are counted and printed; they must be zero wherever the
// topology allows it (HAProxy's retries, redispatch and health checks cover a dead pair). With
// HAProxy killed, the entry point is down until it is restarted: those failures are reported.
// Between deploys, the supervisor alone restarts a killed HAProxy or Varnish.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeployProgress, TopologyView } from '../../src/topology/driver.ts';
import type { Environment } from '../../src/domain/model.ts';
import { LocalDriver } from '../../src/topology/local/local-driver.ts';
import { httpGet, waitFor } from '../../src/topology/local/http.ts';
import { pidAlive } from '../../src/runner/pids.ts';
import { isOurProcess } from '../../src/topology/local/proc.ts';
import { loadState, type TopologyState } from '../../src/topology/local/state.ts';
import { deployedEnvironment, deployOptions, release, startLoad, waitUntil, type Fixture } from './support.ts';

let fx: Fixture;
let driver: LocalDriver;
let env: Environment;
let teardown: () => Promise<void>;

beforeAll(async () => {
  ({ fx, driver, env, teardown } = await deployedEnvironment('faults', 3, { healthTimeoutMs: 20_000, warmTimeoutMs: 10_000 }));
});

afterAll(() => teardown?.());

async function state(): Promise<TopologyState> {
  const s = await loadState(driver.envDir(env));
  if (!s) throw new Error('no state');
  return s;
}

/** SIGKILL to the node's process group (its record's PID leads it): the node dies at once, whole. */
function kill(pid: number | undefined): number {
  if (!pid) throw new Error('no process to kill');
  process.kill(-pid, 'SIGKILL');
  return pid;
}

function everyNodeRunning(s: TopologyState): boolean {
  const apps = [s.author, ...s.publish];
  return apps.every((n) => isOurProcess(n.process) && n.pending === undefined)
    && s.dispatchers.every((d) => isOurProcess(d.process)) && isOurProcess(s.loadBalancer.process);
}

/** The recorded state once `check` holds (the supervisor may still be restarting something). */
async function stateWhen(check: (s: TopologyState) => boolean): Promise<TopologyState> {
  let s = await state();
  for (let n = 0; n < 300 && !check(s); n++) {
    await new Promise((r) => setTimeout(r, 100));
    s = await state();
  }
  return s;
}

/** The driver's view once `check` holds, or the last one after 30 s. */
async function viewWhen(check: (v: TopologyView) => boolean): Promise<TopologyView> {
  let v = await driver.describe(env);
  for (let n = 0; n < 300 && !check(v); n++) {
    await new Promise((r) => setTimeout(r, 100));
    v = await driver.describe(env);
  }
  return v;
}

interface Fault {
  name: string;
  /** Whether HAProxy can hide the fault from clients (then no request may fail). */
  covered: boolean;
  /** The node killed: its PID, read when the trigger fires. */
  victim(s: TopologyState): number | undefined;
  /** Its PID after the roll (the restarted process). */
  after(s: TopologyState): number | undefined;
}

// Every fault fires when pair 2's new publish process (started beside the old one before the
// drain) is healthy and about to be switched to: pair 1 is rolled and back in the load
// balancer, pair 2 is drained, pair 3 is not rolled yet (its new process may be starting).
const faults: Fault[] = [
  { name: 'publish-1 (rolled, in the load balancer)', covered: true,
    victim: (s) => s.publish[0]?.process?.pid, after: (s) => s.publish[0]?.process?.pid },
  { name: "publish-2's new process (the pair being switched)", covered: true,
    victim: (s) => s.publish[1]?.pending?.process.pid, after: (s) => s.publish[1]?.process?.pid },
  { name: 'dispatcher-3 (in the load balancer)', covered: true,
    victim: (s) => s.dispatchers[2]?.process?.pid, after: (s) => s.dispatchers[2]?.process?.pid },
  { name: 'dispatcher-2 (the pair being switched)', covered: true,
    victim: (s) => s.dispatchers[1]?.process?.pid, after: (s) => s.dispatchers[1]?.process?.pid },
  { name: 'HAProxy', covered: false,
    victim: (s) => s.loadBalancer.process?.pid, after: (s) => s.loadBalancer.process?.pid },
];

describe('a node killed with SIGKILL mid-roll', () => {
  let next = 2;

  it.each(faults)('$name', async (fault) => {
    const before = await state();
    const from = before.author.release?.version ?? '';
    const to = `v${next++}`;
    const load = startLoad({ port: before.loadBalancer.port, keepAlive: true, concurrency: 8, maxRequests: 400_000, maxMs: 90_000 });
    const progress: DeployProgress[] = [];
    let killed: Promise<number> | undefined;
    try {
      await waitUntil(() => load.count() >= 500, 15_000);
      const atStart = load.count();
      const outcome = await driver.deploy(env, release(fx, to), deployOptions(progress, {
        onProgress: (p) => {
          progress.push(p);
          if (!killed && p.node === 'publish-2' && p.action === 'deploy' && p.status === 'RUNNING') {
            // The state file names pair 2's new process once it is started (its pending record).
            killed = state().then((s) => kill(fault.victim(s)));
            killed.catch(() => undefined); // awaited (and thrown) once the deploy is over
          }
        },
      }));
      // The roll must have reached the moment of the fault (pair 2's new process healthy).
      expect(killed, `the roll never reached pair 2: ${outcome.outcome} ${'reason' in outcome ? outcome.reason : ''}; last: ${JSON.stringify(progress.slice(-4))}`).toBeDefined();
      const victim = await killed;
      expect(victim).toBeGreaterThan(0);
      expect(['deployed', 'rolledBack']).toContain(outcome.outcome);
      if (outcome.outcome === 'rolledBack') expect(outcome.reason).not.toBe('');

      // Whatever was killed is running again (restarted, not the killed PID), and so is every other node.
      const after = await stateWhen(everyNodeRunning);
      expect(everyNodeRunning(after)).toBe(true);
      expect(pidAlive(victim ?? 0)).toBe(false);
      expect(fault.after(after)).not.toBe(victim);
      const during = load.count() - atStart;
      const result = await load.stop();
      const failed = result.total - result.ok;
      console.log(`${fault.name} killed mid-roll ${from}->${to}: ${outcome.outcome}${outcome.outcome === 'deployed' ? '' : ` (${outcome.reason})`};`,
        `${failed} of ${result.total} requests through the load balancer failed (${during} during the roll)`,
        JSON.stringify({ non2xx: result.non2xx, errors: result.errors }));
      expect(during).toBeGreaterThan(100); // the load really overlapped the roll
      if (fault.covered) {
        expect(result.non2xx).toEqual({});
        expect(result.errors).toEqual({});
      }
      // Only the app answers (a 'none' is HAProxy's own error page, while it has no dispatcher).
      for (const v of Object.keys(result.versions)) expect([from, to, ...(fault.covered ? [] : ['none'])]).toContain(v);

      // The environment serves with every node healthy, on one release, every pair in the load balancer.
      const now = outcome.outcome === 'deployed' ? to : from;
      // A node the supervisor restarted may still be starting: wait (bounded) until all report healthy.
      const view = await viewWhen((v) => [v.author, ...v.publish, ...v.dispatchers, v.loadBalancer].every((n) => n.healthy));
      expect(view.author.release?.version).toBe(now);
      expect(view.publish.map((p) => [p.release?.version, p.healthy])).toEqual([[now, true], [now, true], [now, true]]);
      expect(view.dispatchers.map((d) => [d.lbState, d.healthy])).toEqual([['READY', true], ['READY', true], ['READY', true]]);
      expect(view.loadBalancer.healthy).toBe(true);
      const check = startLoad({ port: after.loadBalancer.port, keepAlive: false, concurrency: 4, maxRequests: 5000, maxMs: 30_000 });
      try {
        await waitUntil(() => check.count() >= 500, 30_000);
        const served = await check.stop();
        expect(served.non2xx).toEqual({});
        expect(served.errors).toEqual({});
        expect(Object.keys(served.versions)).toEqual([now]);
      } finally {
        check.child.kill('SIGKILL');
      }
    } finally {
      load.child.kill('SIGKILL');
    }
  });
});

describe('a node killed with SIGKILL between deploys', () => {
  it.each([
    { name: 'HAProxy', victim: (s: TopologyState) => s.loadBalancer.process?.pid },
    { name: 'dispatcher-1', victim: (s: TopologyState) => s.dispatchers[0]?.process?.pid },
  ])('$name is restarted by the supervisor alone', async ({ victim }) => {
    const pid = kill(victim(await state()));
    const after = await stateWhen((s) => everyNodeRunning(s) && victim(s) !== pid);
    expect(everyNodeRunning(after)).toBe(true);
    expect(victim(after)).not.toBe(pid);
    expect(pidAlive(pid)).toBe(false);
    const served = await waitFor(async () => (await httpGet(after.loadBalancer.port, '/', 2000).catch(() => undefined))?.status === 200,
      { timeoutMs: 15_000, intervalMs: 100 });
    expect(served).toBe(true);
    const view = await driver.describe(env);
    expect(view.dispatchers.map((d) => [d.lbState, d.healthy])).toEqual([['READY', true], ['READY', true], ['READY', true]]);
  });
});
