// PostgreSQL goes away in the middle of an execution (its own throwaway cluster, so the suite's
// shared one is left alone): the engine reconnects, LISTEN is opened again, and no transition
// is lost or applied twice: every step's handler runs exactly once and the executions finish.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { createSlipway, type Slipway } from '../../src/app.ts';
import { startExecution } from '../../src/engine/commands.ts';
import { getExecution } from '../../src/store/executions.ts';
import { testHandlers } from '../support/engine-handlers.ts';
import { createDatabase, startPostgres, type PostgresCluster } from '../support/postgres.ts';
import { seedPipeline } from '../support/seed.ts';
import { eventually } from '../support/slipway.ts';

let cluster: PostgresCluster | undefined;
afterAll(() => cluster?.stop());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function finished(admin: Slipway, id: string): Promise<boolean> {
  return (await getExecution(admin.rt.db.kysely, id))?.status === 'FINISHED';
}

/** Connections (of any process) listening for Slipway's notifications on this database. */
async function listeners(admin: Slipway): Promise<number> {
  const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity
    WHERE datname = current_database() AND query = 'LISTEN slipway'`.execute(admin.rt.db.kysely);
  return r.rows[0]!.n;
}

describe('PostgreSQL restarted under a running engine', () => {
  it('the result of a step that ends while PostgreSQL is down is written once it is back; after pg_ctl restart, LISTEN delivers new work', async () => {
    cluster = await startPostgres();
    const databaseUrl = await createDatabase(cluster.url, 'restart');
    const dataDir = mkdtempSync(join(tmpdir(), 'slipway-pg-restart-'));
    const runs = new Map<string, number>();
    let reachGate: () => void = () => undefined;
    const gateReached = new Promise<void>((r) => { reachGate = r; });
    let openGate: () => void = () => undefined;
    const gate = new Promise<void>((r) => { openGate = r; });
    const base = testHandlers({
      deploy: async (ctx) => {
        if (ctx.step.environmentType === 'stage' && runs.size < 20) {
          reachGate();
          await gate;
        }
        return { outcome: 'finished' };
      },
    });
    const handlers = Object.fromEntries(Object.entries(base).map(([action, h]) => [action, {
      ...h!,
      // deploy is not idempotent: a re-run after a lost result would show as ERROR, not pass silently.
      idempotent: action !== 'deploy',
      run: (ctx: Parameters<typeof h.run>[0]) => {
        runs.set(ctx.step.id, (runs.get(ctx.step.id) ?? 0) + 1);
        return h!.run(ctx);
      },
    }]));
    const engine = await createSlipway({ dataDir, databaseUrl }, { handlers, leaseMs: 20_000 });
    const admin = await createSlipway({ dataDir, databaseUrl }, { runEngine: false });
    const pipeline = await seedPipeline(admin, { options: { approval: false } });

    // 1. Down while the stage deploy runs; the deploy ends during the outage.
    const first = await startExecution(admin.rt, pipeline, { user: 'restart-test' });
    await gateReached;
    cluster.halt();
    openGate();
    await sleep(1500); // the engine tries to write the result and finds no database
    cluster.resume();
    await eventually(() => finished(admin, first.id), 60_000);

    // 2. pg_ctl restart -m fast while idle; then new work, announced only through NOTIFY.
    cluster.restart();
    await eventually(async () => (await listeners(admin).catch(() => 0)) >= 2, 30_000);
    const second = await startExecution(admin.rt, pipeline, { user: 'restart-test' });
    await eventually(() => finished(admin, second.id), 60_000);

    for (const id of [first.id, second.id]) {
      const e = (await getExecution(admin.rt.db.kysely, id))!;
      expect(e.steps.map((s) => `${s.action}:${s.status}`).filter((s) => !/:(FINISHED|INCOMPLETE)$/.test(s))).toEqual([]);
      for (const s of e.steps.filter((x) => x.status === 'FINISHED')) expect(runs.get(s.id), `${s.action} ${s.id}`).toBe(1);
    }
    await engine.close();
    await admin.close();
    rmSync(dataDir, { recursive: true, force: true });
  }, 180_000);
});
