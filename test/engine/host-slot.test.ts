// Engines beyond a host's active slots stand by (src/engine/host-slot.ts): on PostgreSQL only
// the active ones claim work, and one standing by takes over when an active one stops or
// loses its session.
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { Slipway } from '../../src/app.ts';
import { buildServer } from '../../src/api/server.ts';
import { startExecution } from '../../src/engine/commands.ts';
import { defaultActiveEngines, slotKey } from '../../src/engine/host-slot.ts';
import { isExecutionTerminal } from '../../src/domain/transitions.ts';
import { getExecution } from '../../src/store/executions.ts';
import { testHandlers } from '../support/engine-handlers.ts';
import { seedPipeline } from '../support/seed.ts';
import { eventually, testStore, type TestStore } from '../support/slipway.ts';

describe('host slots', () => {
  it('leave a core for the rest by default, at least one engine', () => {
    expect(defaultActiveEngines(1)).toBe(1);
    expect(defaultActiveEngines(2)).toBe(1);
    expect(defaultActiveEngines(8)).toBe(7);
  });

  it('name each slot of each host apart', () => {
    const keys = new Set(['a', 'b'].flatMap((host) => [0, 1, 2].map((slot) => slotKey(host, slot))));
    expect(keys.size).toBe(6);
    for (const key of keys) expect(Number.isInteger(key) && key >= -(2 ** 31) && key < 2 ** 31).toBe(true);
  });
});

describe('engines standing by on postgres', () => {
  /** Opens `names.length` engines with one active slot; `ran` records which engine ran each step. */
  async function engines(store: TestStore, names: string[], ran: string[]): Promise<Slipway[]> {
    const opened: Slipway[] = [];
    for (const name of names) {
      const handlers = testHandlers({ build: async () => { ran.push(name); return { outcome: 'finished' }; } });
      opened.push(await store.open({ handlers, activeEngines: 1, workerId: name }));
    }
    return opened;
  }

  async function runOne(admin: Slipway): Promise<void> {
    const pipeline = await seedPipeline(admin, { type: 'codeQuality' });
    const { id } = await startExecution(admin.rt, pipeline, { user: 'ada' });
    await eventually(async () => isExecutionTerminal((await getExecution(admin.rt.db.kysely, id))!.status), 20_000);
    expect((await getExecution(admin.rt.db.kysely, id))!.status).toBe('FINISHED');
  }

  it('only the active engine claims; another takes over once it stops', async () => {
    const store = await testStore('postgres');
    const ran: string[] = [];
    const [a, b, c] = await engines(store, ['a', 'b', 'c'], ran);
    const admin = await store.open({ runEngine: false });
    let aClosed = false;
    try {
      expect([a, b, c].map((s) => s!.engine.active)).toEqual([true, false, false]);
      // Only the active engine's process hears wake-ups (through PostgreSQL: they are another process's).
      const heard = [a, b, c].map((s) => {
        const count = { n: 0 };
        s!.rt.wakeup.on(() => count.n++);
        return count;
      });
      for (let i = 0; i < 3; i++) await runOne(admin);
      expect(ran).toEqual(['a', 'a', 'a']);
      expect(heard.map((h) => h.n > 0)).toEqual([true, false, false]);
      // Operators see it in the health answer.
      const api = await buildServer(b!, { adminToken: 'slw_host-slot-test-token' });
      expect((await api.inject({ url: '/api/health' })).json()).toEqual({ status: 'ok', engine: 'standing by' });
      await api.close();

      await a!.close();
      aClosed = true;
      await eventually(async () => [b, c].filter((s) => s!.engine.active).length === 1, 10_000);
      const next = b!.engine.active ? 'b' : 'c';
      await runOne(admin);
      expect(ran.at(-1)).toBe(next);
    } finally {
      await Promise.all([...(aClosed ? [] : [a!]), b!, c!, admin].map((s) => s.close()));
      store.cleanup();
    }
  });

  it('an engine whose session is cut stands by, and is active again once it has a slot', async () => {
    const store = await testStore('postgres');
    const ran: string[] = [];
    const [a] = await engines(store, ['a'], ran);
    try {
      expect(a!.engine.active).toBe(true);
      // PostgreSQL ends the session that holds the slot (a restart, a network cut).
      await sql`SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND classid = 7274931`.execute(a!.rt.db.kysely);
      await eventually(async () => !a!.engine.active, 10_000);
      await eventually(async () => a!.engine.active, 10_000);
      await runOne(a!);
      expect(ran).toEqual(['a']);
    } finally {
      await a!.close();
      store.cleanup();
    }
  });
});
