// Engine benchmarks (figures printed, nothing asserted):
// 1. Step transition latency — a step's handler returns → the next step's handler starts —
//    p50/p99 on SQLite and PostgreSQL; and graphile-worker's job added → job started on the
//    same PostgreSQL, as the peer. Goals: p50 ≤ 2 ms (SQLite), ≤ 5 ms (PostgreSQL).
// 2. Throughput of no-op pipelines of 16 steps: transitions/s with 1 and 4 engine processes
//    on PostgreSQL. Goal ≥ 500/s on 2 cores.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Logger, makeWorkerUtils, run as runGraphile } from 'graphile-worker';
import { createSlipway, type Slipway } from '../src/app.ts';
import type { StepSpec } from '../src/domain/layout.ts';
import { STEP_ACTIONS, type StepAction } from '../src/domain/model.ts';
import { transact } from '../src/engine/runtime.ts';
import type { HandlerRegistry } from '../src/steps/handler.ts';
import { getExecution, insertExecution } from '../src/store/executions.ts';
import { createDatabase, startPostgres } from '../test/support/postgres.ts';
import { seedPipeline } from '../test/support/seed.ts';

const SIXTEEN: StepSpec[] = Array.from({ length: 16 }, (_, i) => ({
  phase: 'stageDeployment', action: (['validate', 'build', 'codeQuality', 'buildImage'] as StepAction[])[i % 4]!,
}));

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
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

function startWorker(dataDir: string, databaseUrl: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/engine-worker.ts'], {
    env: { ...process.env, SLIPWAY_DATA: dataDir, SLIPWAY_DATABASE_URL: databaseUrl },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('ready')) resolve(child); });
    child.on('exit', (c) => reject(new Error(`worker exited ${c}`)));
  });
}

export async function throughput(adminUrl: string, engines: number, pipelines: number): Promise<number> {
  const databaseUrl = await createDatabase(adminUrl, 'bench');
  const dataDir = mkdtempSync(join(tmpdir(), 'slipway-bench-'));
  const admin = await createSlipway({ dataDir, databaseUrl }, { runEngine: false });
  const targets = [];
  for (let i = 0; i < pipelines; i++) targets.push(await seedPipeline(admin));
  const workers = await Promise.all(Array.from({ length: engines }, () => startWorker(dataDir, databaseUrl)));
  const t0 = performance.now();
  const ids = [];
  for (const p of targets) ids.push(await start16(admin, p.id, p.programId));
  for (;;) {
    const rows = await admin.rt.db.kysely.selectFrom('executions').select('id').where('busy_pipeline_id', 'is not', null).execute();
    if (rows.length === 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const seconds = (performance.now() - t0) / 1000;
  const last = await getExecution(admin.rt.db.kysely, ids.at(-1)!);
  if (last?.status !== 'FINISHED') throw new Error(`bench execution ended ${last?.status}`);
  for (const w of workers) w.kill('SIGTERM');
  await admin.close();
  rmSync(dataDir, { recursive: true, force: true });
  return (pipelines * SIXTEEN.length) / seconds;
}

export async function run(): Promise<void> {
  const pg = await startPostgres();
  try {
    console.log('engine: step transition latency (handler returns → next handler starts)');
    console.log(`  SQLite:          ${fmt(await transitionLatency(undefined, 40))}`);
    const url = await createDatabase(pg.url, 'bench');
    console.log(`  PostgreSQL:      ${fmt(await transitionLatency(url, 40))}`);
    console.log(`  graphile-worker: ${fmt(await graphileLatency(await createDatabase(pg.url, 'graphile'), 300))} (job added → job started, same PostgreSQL)`);
    console.log('engine: throughput of no-op 16-step pipelines on PostgreSQL');
    for (const engines of [1, 4]) {
      console.log(`  ${engines} engine process(es): ${(await throughput(pg.url, engines, 60)).toFixed(0)} step transitions/s`);
    }
  } finally {
    pg.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
