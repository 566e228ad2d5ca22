// Crash recovery with real process kills: kill -9 at random moments, start again, and every
// execution must end, with no step left RUNNING and no non-idempotent effect applied twice.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startExecution } from '../../src/engine/commands.ts';
import { isExecutionTerminal } from '../../src/domain/transitions.ts';
import { getExecution } from '../../src/store/executions.ts';
import { killHard, startEngine } from '../support/engine-process.ts';
import { seedPipeline } from '../support/seed.ts';
import { eventually, testStore, type Backend, type TestStore } from '../support/slipway.ts';


async function seedExecutions(store: TestStore, count: number): Promise<string[]> {
  const admin = await store.open({ runEngine: false });
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const pipeline = await seedPipeline(admin, { options: { approval: false } });
    ids.push((await startExecution(admin.rt, pipeline, { user: 'crash-test' })).id);
  }
  await admin.close();
  return ids;
}

async function verify(store: TestStore, ids: string[]): Promise<void> {
  const admin = await store.open({ runEngine: false });
  try {
    for (const id of ids) {
      const e = (await getExecution(admin.rt.db.kysely, id))!;
      expect(isExecutionTerminal(e.status), `execution ${id} is ${e.status}`).toBe(true);
      expect(e.steps.filter((s) => s.status === 'RUNNING' || s.status === 'WAITING')).toEqual([]);
      const interrupted = e.steps.filter((s) => s.status === 'ERROR');
      for (const s of interrupted) expect(s.reason).toMatch(/not safe to run twice/);
    }
  } finally {
    await admin.close();
  }
  const lines = readFileSync(join(store.dataDir, 'effects.log'), 'utf8').trim().split('\n');
  const effects = new Map<string, number>();
  for (const l of lines.filter((x) => x.startsWith('effect '))) {
    const stepId = l.split(' ')[1]!;
    effects.set(stepId, (effects.get(stepId) ?? 0) + 1);
  }
  expect([...effects.entries()].filter(([, n]) => n > 1)).toEqual([]);
  expect(effects.size).toBeGreaterThan(0);
}

describe('crash recovery', () => {
  it('kill -9 loop on SQLite: 50 executions, at least 20 kills, every execution ends', async () => {
    const store = await testStore('sqlite');
    const ids = await seedExecutions(store, 50);
    const env = { EFFECTS_FILE: join(store.dataDir, 'effects.log'), LEASE_MS: '300', STEP_MS: '15' };
    let kills = 0;
    while (kills < 20) {
      const child = await startEngine(store, env);
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 250));
      await killHard(child);
      kills++;
    }
    const last = await startEngine(store, env);
    const admin = await store.open({ runEngine: false });
    await eventually(async () => {
      for (const id of ids) if (!isExecutionTerminal((await getExecution(admin.rt.db.kysely, id))!.status)) return false;
      return true;
    }, 90_000);
    await admin.close();
    await killHard(last);
    expect(kills).toBeGreaterThanOrEqual(20);
    await verify(store, ids);
    store.cleanup();
  }, 300_000);

  it.each<Backend>(['postgres'])('two engines on %s: one killed mid-step, the other finishes after the lease expires', async (backend) => {
    const store = await testStore(backend);
    // Two slots each for four executions: neither engine can take them all (a hand-off keeps an
    // execution on the engine that claimed it), so both share the work; both active, whatever
    // the host's cores (host-slot.ts).
    const env = { EFFECTS_FILE: join(store.dataDir, 'effects.log'), LEASE_MS: '1500', STEP_MS: '150', CONCURRENCY: '2', ACTIVE_ENGINES: '2' };
    // Both engines run before the work arrives (through LISTEN/NOTIFY).
    const [a, b] = await Promise.all([
      startEngine(store, { ...env, WORKER_ID: 'engine-a' }), startEngine(store, { ...env, WORKER_ID: 'engine-b' }),
    ]);
    const ids = await seedExecutions(store, 4);
    // Kill A once it is running a step.
    await eventually(async () => existsSync(env.EFFECTS_FILE) && readFileSync(env.EFFECTS_FILE, 'utf8').includes(`${a.pid}`));
    await killHard(a);
    const admin = await store.open({ runEngine: false });
    await eventually(async () => {
      for (const id of ids) if (!isExecutionTerminal((await getExecution(admin.rt.db.kysely, id))!.status)) return false;
      return true;
    }, 60_000);
    await admin.close();
    await killHard(b);
    await verify(store, ids);
    const log = readFileSync(env.EFFECTS_FILE, 'utf8');
    expect(log).toContain(`${b.pid}`);
    store.cleanup();
  }, 120_000);
});
