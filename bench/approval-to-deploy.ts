// Approval → production deploy (figures printed, nothing asserted): a production pipeline waits
// at its go-live approval (the real approval handler, no-op steps otherwise); the approval is
// advanced through the command the API uses, and the time until the production deploy step's
// handler starts is measured (one commit, a wake-up, a claim, the launch, the step's context).
// Goal: p50 ≤ 50 ms. SQLite and PostgreSQL, engine in the bench process.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSlipway } from '../src/app.ts';
import { advanceStep, startExecution } from '../src/engine/commands.ts';
import { getExecution } from '../src/store/executions.ts';
import { createDatabase, startPostgres } from '../test/support/postgres.ts';
import { testHandlers } from '../test/support/engine-handlers.ts';
import { seedPipeline } from '../test/support/seed.ts';
import { percentile, round, type Figures } from './figures.ts';

const RUNS = 20;

async function measure(databaseUrl: string | undefined): Promise<number[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'slipway-bench-approval-'));
  let advancedAt = 0;
  let deployStarted: (ms: number) => void = () => undefined;
  const handlers = testHandlers({
    deploy: async (ctx) => {
      if (ctx.step.environmentType === 'prod') deployStarted(performance.now() - advancedAt);
      return { outcome: 'finished' };
    },
  });
  const s = await createSlipway({ dataDir, databaseUrl }, { handlers });
  const samples: number[] = [];
  try {
    const pipeline = await seedPipeline(s, { options: { approval: true } });
    for (let i = 0; i < RUNS; i++) {
      const execution = await startExecution(s.rt, pipeline, { user: 'bench' });
      let approval: string | undefined;
      while (!approval) {
        const e = await getExecution(s.rt.db.kysely, execution.id);
        approval = e?.steps.find((x) => x.action === 'approval' && x.status === 'WAITING')?.id;
        if (!approval) await new Promise((r) => setTimeout(r, 5));
      }
      const started = new Promise<number>((r) => { deployStarted = r; });
      advancedAt = performance.now();
      await advanceStep(s.rt, approval, { approved: true }, 'bench');
      samples.push(await started);
      while ((await getExecution(s.rt.db.kysely, execution.id))?.status === 'RUNNING') await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    await s.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return samples.slice(2); // the first runs warm the caches
}

export async function run(): Promise<Figures> {
  const pg = await startPostgres();
  try {
    const fmt = (xs: number[]) => `p50 ${percentile(xs, 50).toFixed(2)} ms, p99 ${percentile(xs, 99).toFixed(2)} ms (n=${xs.length})`;
    console.log('approval-to-deploy: go-live approval advanced → production deploy handler starts');
    const sqlite = await measure(undefined);
    console.log(`  SQLite:     ${fmt(sqlite)}`);
    const postgres = await measure(await createDatabase(pg.url, 'bench'));
    console.log(`  PostgreSQL: ${fmt(postgres)} — goal p50 ≤ 50 ms`);
    return {
      p50Ms: round(percentile(postgres, 50)), p99Ms: round(percentile(postgres, 99)),
      sqliteP50Ms: round(percentile(sqlite, 50)), sqliteP99Ms: round(percentile(sqlite, 99)),
    };
  } finally {
    pg.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
