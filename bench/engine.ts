// Engine benchmarks (figures printed, nothing asserted):
// 1. Step transition latency — a step's handler returns → the next step's handler starts —
//    p50/p99 on SQLite and PostgreSQL; and graphile-worker's job added → job started on the
//    same PostgreSQL, as the peer. Goals: p50 ≤ 2 ms (SQLite), ≤ 5 ms (PostgreSQL).
// 2. Throughput of no-op pipelines of 16 steps (200 at once): transitions/s with 1, 2 and 4
//    engine processes on PostgreSQL, warm (each process first runs an untimed round), the three
//    counts' rounds taking turns. Goal ≥ 1,000/s on 2 cores, and more processes no slower than 1.
// 3. 1,000 executions of that pipeline started at once on PostgreSQL, one engine process: all
//    must finish (the bench throws otherwise); seconds, transitions/s and the engine's peak RSS.
// Throughput on 2 shared cores moves with the machine by ±20 % from run to run; the CPU time
// each transition costs the engine processes and PostgreSQL (all its processes) moves far less,
// so it is printed beside it: what a change to the engine saves shows there first.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Logger, makeWorkerUtils, run as runGraphile } from 'graphile-worker';
import { createSlipway, type Slipway } from '../src/app.ts';
import type { StepSpec } from '../src/domain/layout.ts';
import { STEP_ACTIONS, type StepAction } from '../src/domain/model.ts';
import { transact } from '../src/engine/runtime.ts';
import type { HandlerRegistry } from '../src/steps/handler.ts';
import { insertExecution } from '../src/store/executions.ts';
import { createDatabase, onCluster, startPostgres, type PostgresCluster } from '../test/support/postgres.ts';
import { childrenOf } from '../test/support/soak.ts';
import { seedPipeline } from '../test/support/seed.ts';
import { percentile as pct, round, type Figures } from './figures.ts';

const SIXTEEN: StepSpec[] = Array.from({ length: 16 }, (_, i) => ({
  phase: 'stageDeployment', action: (['validate', 'build', 'codeQuality', 'buildImage'] as StepAction[])[i % 4]!,
}));

const fmt = (xs: number[]) => `p50 ${pct(xs, 50).toFixed(2)} ms, p99 ${pct(xs, 99).toFixed(2)} ms (n=${xs.length})`;

/** Starts a 16-step execution straight from the layout (the bench's no-op pipeline). */
async function start16(s: Slipway, pipelineId: string, programId: string): Promise<string> {
  return transact(s.rt, async (trx, changes) => {
    const e = await insertExecution(trx, {
      programId, pipelineId, pipelineType: 'fullStack', trigger: 'MANUAL', mode: 'NORMAL', user: 'bench',
      steps: SIXTEEN, environmentIds: {},
    }, s.rt.clock.now());
    changes.add({ events: [], wake: true });
    return e.id;
  });
}

export async function transitionLatency(databaseUrl: string | undefined, executions: number): Promise<number[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'slipway-bench-'));
  const samples: number[] = [];
  let returnedAt = 0;
  let done: () => void = () => undefined;
  const handlers: HandlerRegistry = {};
  for (const action of STEP_ACTIONS) {
    handlers[action] = {
      action, idempotent: true,
      async run(ctx) {
        if (ctx.step.index > 0) samples.push(performance.now() - returnedAt);
        if (ctx.step.index === SIXTEEN.length - 1) setImmediate(done);
        returnedAt = performance.now();
        return { outcome: 'finished' };
      },
    };
  }
  const s = await createSlipway({ dataDir, databaseUrl }, { handlers, concurrency: 1 });
  const pipeline = await seedPipeline(s);
  for (let i = 0; i < executions; i++) {
    const finished = new Promise<void>((r) => { done = r; });
    await start16(s, pipeline.id, pipeline.programId);
    await finished;
    // The execution ends in the transaction after the last handler; wait for the pipeline to be free.
    for (;;) {
      const [e] = (await s.rt.db.kysely.selectFrom('executions').select('busy_pipeline_id').where('pipeline_id', '=', Number(pipeline.id)).where('busy_pipeline_id', 'is not', null).execute());
      if (!e) break;
      await new Promise((r) => setTimeout(r, 1));
    }
  }
  await s.close();
  rmSync(dataDir, { recursive: true, force: true });
  return samples.slice(15); // the first execution warms the caches
}

const quiet = new Logger(() => () => undefined);

async function graphileLatency(connectionString: string, jobs: number): Promise<number[]> {
  const samples: number[] = [];
  let addedAt = 0;
  let started: () => void = () => undefined;
  const runner = await runGraphile({
    connectionString, concurrency: 1, noHandleSignals: true, pollInterval: 2000,
    taskList: { noop: async () => { samples.push(performance.now() - addedAt); started(); } },
    logger: quiet,
  });
  const utils = await makeWorkerUtils({ connectionString, logger: quiet });
  for (let i = 0; i < jobs; i++) {
    const p = new Promise<void>((r) => { started = r; });
    addedAt = performance.now();
    await utils.addJob('noop', {});
    await p;
  }
  await utils.release();
  await runner.stop();
  return samples.slice(10);
}

/** An engine process; its last `rss <bytes>` line (printed when it stops) is its peak RSS. */
function startWorker(dataDir: string, databaseUrl: string): Promise<{ child: ChildProcess; peakRss: Promise<number>; active: boolean }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/engine-worker.ts'], {
    env: { ...process.env, SLIPWAY_DATA: dataDir, SLIPWAY_DATABASE_URL: databaseUrl },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const peakRss = new Promise<number>((resolve) => {
    child.on('exit', () => resolve(Number(/rss (\d+)/.exec(out)?.[1] ?? NaN)));
  });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) resolve({ child, peakRss, active: out.includes('ready active') });
    });
    child.on('exit', (c) => reject(new Error(`worker exited ${c}`)));
  });
}

/** CPU time (user + system) of each of `pids` so far, ms; a process gone meanwhile is left out. */
function cpuMs(pids: number[]): Map<number, number> {
  const ms = new Map<number, number>();
  for (const pid of pids) {
    try {
      // utime and stime, fields 14 and 15 of /proc/<pid>/stat, in clock ticks (100 a second).
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ms.set(pid, (Number(fields[11]) + Number(fields[12])) * 10);
    } catch { /* gone meanwhile */ }
  }
  return ms;
}

/** CPU ms used between two readings of cpuMs; a process that appeared meanwhile counts from its start. */
const cpuBetween = (before: Map<number, number>, after: Map<number, number>): number =>
  [...after].reduce((sum, [pid, ms]) => sum + ms - (before.get(pid) ?? 0), 0);

/** PostgreSQL's processes: the postmaster and its children (backends, WAL writer, autovacuum…). */
function postgresPids(pg: PostgresCluster): number[] {
  const postmaster = Number(readFileSync(`${pg.dir}/data/postmaster.pid`, 'utf8').split('\n')[0]);
  return [postmaster, ...childrenOf(postmaster)];
}

export interface Throughput {
  transitionsPerSecond: number;
  /** CPU per transition, ms: of the engine processes, and of PostgreSQL's. */
  cpuMsPerTransition: { engine: number; postgres: number };
  seconds: number;
  /** Peak RSS of the busiest engine process, MB. */
  peakRssMb: number;
  /** Engine processes that claimed work; the others stood by (src/engine/host-slot.ts). */
  active: number;
}

/** One engine count's setup for the throughput bench: its database, pipelines and engine processes. */
export interface ThroughputSetup {
  /** Runs all its pipelines once; the round's figures. */
  round(): Promise<Round>;
  /** The median of the rounds run (checked: every execution finished); stops the engines and drops the database. */
  finish(rounds: Round[]): Promise<Throughput>;
}

interface Round { seconds: number; ids: string[]; cpuMsPerTransition: Throughput['cpuMsPerTransition'] }

export async function throughputSetup(pg: PostgresCluster, engines: number, pipelines: number): Promise<ThroughputSetup> {
  const adminUrl = pg.url;
  const databaseUrl = await createDatabase(adminUrl, 'bench');
  const dataDir = mkdtempSync(join(tmpdir(), 'slipway-bench-'));
  const admin = await createSlipway({ dataDir, databaseUrl }, { runEngine: false });
  const targets: Awaited<ReturnType<typeof seedPipeline>>[] = [];
  for (let i = 0; i < pipelines; i++) targets.push(await seedPipeline(admin));
  const workers = await Promise.all(Array.from({ length: engines }, () => startWorker(dataDir, databaseUrl)));
  const enginePids = workers.map((w) => w.child.pid!);
  return {
    async round() {
      const cpu = { engine: cpuMs(enginePids), postgres: cpuMs(postgresPids(pg)) };
      const t0 = performance.now();
      const ids = await Promise.all(targets.map((p) => start16(admin, p.id, p.programId)));
      // Watched by a count (the busy ones are an index's entries), not by their rows: the watch
      // shares the machine and the database with what it times.
      for (;;) {
        const { n } = await admin.rt.db.kysely.selectFrom('executions').select((eb) => eb.fn.countAll<number>().as('n'))
          .where('busy_pipeline_id', 'is not', null).executeTakeFirstOrThrow();
        if (Number(n) === 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      const seconds = (performance.now() - t0) / 1000;
      const transitions = pipelines * SIXTEEN.length;
      const cpuMsPerTransition = {
        engine: cpuBetween(cpu.engine, cpuMs(enginePids)) / transitions,
        postgres: cpuBetween(cpu.postgres, cpuMs(postgresPids(pg))) / transitions,
      };
      return { seconds, ids, cpuMsPerTransition };
    },
    async finish(rounds) {
      const { seconds, ids, cpuMsPerTransition } = [...rounds].sort((x, y) => x.seconds - y.seconds)[Math.floor(rounds.length / 2)]!;
      const unfinished = await admin.rt.db.kysely.selectFrom('executions').select(['id', 'status'])
        .where('status', '!=', 'FINISHED').execute();
      if (unfinished.length) throw new Error(`${unfinished.length} bench executions did not finish, e.g. ${JSON.stringify(unfinished[0])}`);
      const steps = await admin.rt.db.kysely.selectFrom('steps').select('id').where('status', '!=', 'FINISHED').execute();
      if (steps.length || ids.length !== pipelines) throw new Error(`${steps.length} bench steps did not finish`);
      for (const w of workers) w.child.kill('SIGTERM');
      const rss = await Promise.all(workers.map((w) => w.peakRss));
      await admin.close();
      rmSync(dataDir, { recursive: true, force: true });
      // Dropped, so what runs next is not timed while autovacuum cleans up after this one.
      await onCluster(adminUrl, `DROP DATABASE ${new URL(databaseUrl).pathname.slice(1)} WITH (FORCE)`);
      return {
        transitionsPerSecond: (pipelines * SIXTEEN.length) / seconds, cpuMsPerTransition, seconds, peakRssMb: Math.max(...rss) / 1024 / 1024,
        active: workers.filter((w) => w.active).length,
      };
    },
  };
}

/**
 * Throughput with each engine count, compared in the same minutes: the counts' rounds take
 * turns (1, 2, 4, 1, 2, 4…), so the machine's drift over the bench (±20 %) falls on each count
 * alike instead of on whichever ran last. The processes of the counts not running meanwhile sit
 * idle. A long-running engine runs compiled code: a first, untimed round lets each process's JIT
 * warm up (a cold round of this size is a third V8 compiling, and each process compiles its
 * own), as a server is measured warm. Then the median of three rounds each.
 */
export async function throughputs(pg: PostgresCluster, counts: number[], pipelines: number): Promise<Throughput[]> {
  const setups: ThroughputSetup[] = [];
  for (const engines of counts) setups.push(await throughputSetup(pg, engines, pipelines));
  for (const setup of setups) await setup.round();
  // What the rounds before wrote is on disk now, not flushed by a checkpoint during the timed ones.
  await onCluster(pg.url, 'CHECKPOINT');
  const rounds: Round[][] = setups.map(() => []);
  for (let i = 0; i < 3; i++) for (const [n, setup] of setups.entries()) rounds[n]!.push(await setup.round());
  const results: Throughput[] = [];
  for (const [n, setup] of setups.entries()) results.push(await setup.finish(rounds[n]!));
  return results;
}

/** One round on cold engines (as after a restart). */
export async function coldThroughput(pg: PostgresCluster, engines: number, pipelines: number): Promise<Throughput> {
  const setup = await throughputSetup(pg, engines, pipelines);
  return setup.finish([await setup.round()]);
}

export async function run(): Promise<Figures> {
  const pg = await startPostgres();
  const figures: Figures = {};
  try {
    console.log('engine: step transition latency (handler returns → next handler starts)');
    const sqlite = await transitionLatency(undefined, 40);
    console.log(`  SQLite:          ${fmt(sqlite)}`);
    const url = await createDatabase(pg.url, 'bench');
    const postgres = await transitionLatency(url, 40);
    console.log(`  PostgreSQL:      ${fmt(postgres)}`);
    const graphile = await graphileLatency(await createDatabase(pg.url, 'graphile'), 300);
    console.log(`  graphile-worker: ${fmt(graphile)} (job added → job started, same PostgreSQL)`);
    Object.assign(figures, {
      sqliteP50Ms: round(pct(sqlite, 50)), sqliteP99Ms: round(pct(sqlite, 99)),
      postgresP50Ms: round(pct(postgres, 50)), postgresP99Ms: round(pct(postgres, 99)),
      graphileP50Ms: round(pct(graphile, 50)), graphileP99Ms: round(pct(graphile, 99)),
    });
    console.log('engine: throughput of no-op 16-step pipelines on PostgreSQL');
    const counts = [1, 2, 4];
    for (const [n, t] of (await throughputs(pg, counts, 200)).entries()) {
      const engines = counts[n]!;
      const standing = engines - t.active;
      const cpu = t.cpuMsPerTransition;
      console.log(`  ${engines} engine process(es): ${t.transitionsPerSecond.toFixed(0)} step transitions/s`
        + `; CPU per transition: engine ${cpu.engine.toFixed(2)} ms, PostgreSQL ${cpu.postgres.toFixed(2)} ms`
        + (standing > 0 ? ` (${t.active} active, ${standing} standing by: SLIPWAY_ACTIVE_ENGINES defaults to the cores less one)` : ''));
      figures[`transitionsPerSecond${engines}`] = round(t.transitionsPerSecond);
      figures[`engineCpuMsPerTransition${engines}`] = round(cpu.engine);
      figures[`postgresCpuMsPerTransition${engines}`] = round(cpu.postgres);
      figures[`activeEngines${engines}`] = t.active;
    }
    // A burst on a cold engine, as after a restart.
    const many = await coldThroughput(pg, 1, 1000);
    console.log(`engine: 1,000 executions at once on PostgreSQL, 1 engine process: all finished in ${many.seconds.toFixed(1)} s, `
      + `${many.transitionsPerSecond.toFixed(0)} step transitions/s, engine peak RSS ${many.peakRssMb.toFixed(0)} MB`);
    Object.assign(figures, {
      concurrentExecutions1000Seconds: round(many.seconds),
      concurrentExecutions1000TransitionsPerSecond: round(many.transitionsPerSecond),
      concurrentExecutions1000PeakRssMb: round(many.peakRssMb),
    });
  } finally {
    pg.stop();
  }
  return figures;
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
