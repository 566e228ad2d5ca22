// Rolling deploy figures on a real 3-pair topology under constant keep-alive load, on the local
// driver and (where podman works) on the container driver, one after the other:
//  - wall time of the roll vs its lower bound (node start + health check + warm-up per batch,
//    measured in the same run; goal ≤ 1.2×),
//  - load latency p50/p99 during the roll vs before it (goal p99 ≤ 2× baseline),
//  - drain wait on an idle dispatcher (goal ≤ 1 s).
import { setTimeout as sleep } from 'node:timers/promises';
import { HaproxyAdmin } from '../src/topology/local/haproxy.ts';
import { loadState } from '../src/topology/local/state.ts';
import type { DeployProgress } from '../src/topology/driver.ts';
import { round, type Figures } from './figures.ts';
import {
  containersProblem, deployOptions, environment, makeDriver, makeFixture, release, startLoad, type DriverName,
} from '../test/topology/support.ts';

function ms(p: DeployProgress): number { return Date.parse(p.at); }

/** Sum of (start+health) and warm-up durations from the deploy's own progress records. */
function lowerBound(progress: DeployProgress[]): { pairs: number; author: number } {
  let pairs = 0;
  let author = 0;
  for (const p of progress) {
    if (p.action === 'start' && p.status === 'FINISHED') {
      const took = Number(/healthy after (\d+) ms/.exec(p.message ?? '')?.[1] ?? 0);
      if (p.node === 'author') author += took; else pairs += took;
    }
    if (p.action === 'warm' && p.status === 'FINISHED') {
      const began = progress.find((q) => q.node === p.node && q.action === 'warm' && q.status === 'RUNNING' && ms(q) <= ms(p));
      if (began) pairs += ms(p) - ms(began);
    }
  }
  return { pairs, author };
}

/** Per pair, from its drain to its attach: how long each pair is out of the load balancer. */
function drainedWindows(progress: DeployProgress[]): number[] {
  return progress.filter((p) => p.action === 'attach' && p.status === 'FINISHED').flatMap((p) => {
    const drained = progress.find((q) => q.node === p.node && q.action === 'drain' && q.status === 'RUNNING' && ms(q) <= ms(p));
    return drained ? [ms(p) - ms(drained)] : [];
  });
}

async function idleDrainWait(socket: string, servers: string[]): Promise<number[]> {
  const admin = new HaproxyAdmin(socket);
  const waits: number[] = [];
  for (let round = 0; round < 3; round++) {
    for (const server of servers) {
      const start = performance.now();
      await admin.setState(server, 'drain');
      while (((await admin.server(server))?.scur ?? 0) > 0) await sleep(20);
      waits.push(performance.now() - start);
      await admin.setState(server, 'ready');
    }
  }
  return waits;
}

export async function run(): Promise<Figures> {
  const figures = await rollOn('local');
  const problem = await containersProblem();
  if (problem) {
    console.log(`rolling-deploy on containers skipped: ${problem}`);
    return figures;
  }
  const containers = await rollOn('containers');
  // The local driver's figures are the headline; the container driver's ride along, prefixed.
  return { ...figures, ...Object.fromEntries(Object.entries(containers).map(([k, v]) => [`containers${k[0]?.toUpperCase()}${k.slice(1)}`, v])) };
}

async function rollOn(driverName: DriverName): Promise<Figures> {
  const fx = await makeFixture(driverName);
  const driver = makeDriver(driverName, fx);
  const env = environment(`bench-${driverName}`, 3, driverName);
  try {
    await driver.provision(env);
    await driver.deploy(env, release(fx, 'v1'), deployOptions());
    const state = await loadState(driver.envDir(env));
    if (!state) throw new Error('no state');

    const waits = await idleDrainWait(state.loadBalancer.socket, state.dispatchers.map((d) => d.server));
    const load = startLoad({ port: state.loadBalancer.port, keepAlive: true, concurrency: 8, maxMs: 60_000 });
    load.phase('before');
    await sleep(4000);
    load.phase('during');
    const progress: DeployProgress[] = [];
    const t0 = performance.now();
    const outcome = await driver.deploy(env, release(fx, 'v2'), deployOptions(progress));
    const wall = performance.now() - t0;
    load.phase('after');
    await sleep(1000);
    const result = await load.stop();
    const bound = lowerBound(progress);
    const before = result.phases.before;
    const during = result.phases.during;

    console.log(`rolling-deploy on the ${driverName} driver (3 pairs, batch size 1, fixture app, keep-alive load, 8 connections)`);
    console.log(`  outcome: ${outcome.outcome}; requests ${result.total}, non-2xx ${JSON.stringify(result.non2xx)}, errors ${JSON.stringify(result.errors)}`);
    console.log(`  wall time: ${wall.toFixed(0)} ms; lower bound (pairs: start+health+warm) ${bound.pairs} ms, with author start ${bound.pairs + bound.author} ms`);
    console.log(`  ratio: ${(wall / bound.pairs).toFixed(2)}x (pairs only), ${(wall / (bound.pairs + bound.author)).toFixed(2)}x (with author) — goal ≤ 1.2x`);
    console.log(`  latency before: p50 ${before?.p50.toFixed(2)} ms, p99 ${before?.p99.toFixed(2)} ms (${before?.count} req)`);
    console.log(`  latency during: p50 ${during?.p50.toFixed(2)} ms, p99 ${during?.p99.toFixed(2)} ms (${during?.count} req), max ${during?.max.toFixed(1)} ms`);
    console.log(`  p99 ratio during/before: ${((during?.p99 ?? 0) / (before?.p99 ?? 1)).toFixed(2)}x — goal ≤ 2x`);
    const windows = drainedWindows(progress).sort((a, b) => a - b);
    const windowMedian = windows[Math.floor(windows.length / 2)] ?? NaN;
    console.log(`  out of the load balancer per pair (drain to attach): median ${windowMedian} ms, max ${windows.at(-1) ?? NaN} ms`);
    const sorted = [...waits].sort((a, b) => a - b);
    console.log(`  idle drain wait: median ${sorted[Math.floor(sorted.length / 2)]?.toFixed(1)} ms, max ${sorted[sorted.length - 1]?.toFixed(1)} ms over ${waits.length} drains — goal ≤ 1000 ms`);
    const steps = new Map<string, number>();
    for (const p of progress) {
      if (p.status !== 'FINISHED') continue;
      const began = [...progress].reverse().find((q) => q.node === p.node && q.action === p.action && q.status === 'RUNNING' && ms(q) <= ms(p));
      if (began) steps.set(p.action, (steps.get(p.action) ?? 0) + ms(p) - ms(began));
    }
    console.log(`  time per action (summed): ${[...steps].map(([a, t]) => `${a} ${t} ms`).join(', ')}`);
    return {
      ratioWithAuthor: round(wall / (bound.pairs + bound.author)), ratioPairs: round(wall / bound.pairs),
      p99Ratio: round((during?.p99 ?? NaN) / (before?.p99 ?? NaN)), wallMs: Math.round(wall), drainedWindowMs: windowMedian,
      failedRequests: result.total - result.ok,
    };
  } finally {
    await driver.destroy(env).catch(() => undefined);
    driver.close();
    fx.cleanup();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
