// Fair sharing: one program's runnable steps never take every engine slot; a program at its
// quota leaves slots for another program's steps, on one engine and across engines.
import { describe, expect, it } from 'vitest';
import type { Slipway } from '../../src/app.ts';
import { programSlots } from '../../src/domain/fair-share.ts';
import { cancelExecution, startExecution } from '../../src/engine/commands.ts';
import type { Execution, Pipeline } from '../../src/domain/model.ts';
import { getExecution } from '../../src/store/executions.ts';
import { createPipeline } from '../../src/store/pipelines.ts';
import { testHandlers, untilAborted } from '../support/engine-handlers.ts';
import { seedPipeline } from '../support/seed.ts';
import { BACKENDS, eventually, testStore } from '../support/slipway.ts';

describe('programSlots', () => {
  it('defaults to half the engine, at least 1, never more than the engine', () => {
    expect(programSlots(8)).toBe(4);
    expect(programSlots(1)).toBe(1);
    expect(programSlots(3)).toBe(1);
    expect(programSlots(8, 3)).toBe(3);
    expect(programSlots(4, 10)).toBe(4);
  });
});

describe.each(BACKENDS)('fair sharing on %s', (backend) => {
  const blockingBuild = () => testHandlers({ build: (ctx) => untilAborted(ctx.signal) });
  const buildOf = (e: Execution) => e.steps.find((s) => s.action === 'build')!;

  /** `count` pipelines of one program (they may run at once; a pipeline runs one execution at a time). */
  async function pipelinesOfOneProgram(s: Slipway, count: number): Promise<Pipeline[]> {
    const first = await seedPipeline(s, { type: 'codeQuality' });
    const more = [];
    for (let i = 1; i < count; i++) {
      more.push(await createPipeline(s.rt.db.kysely, {
        programId: first.programId, name: `P${i}`, type: 'codeQuality', trigger: 'MANUAL', repositoryId: first.repositoryId,
        branch: 'main', environments: {},
      }));
    }
    return [first, ...more];
  }

  const statuses = async (s: Slipway, ids: string[]) =>
    Promise.all(ids.map(async (id) => buildOf((await getExecution(s.rt.db.kysely, id))!).status));

  it('a program at its quota leaves a slot for another program\'s step', async () => {
    const store = await testStore(backend);
    const s = await store.open({ handlers: blockingBuild(), concurrency: 4 });
    try {
      const busy = await pipelinesOfOneProgram(s, 4);
      const other = await seedPipeline(s, { type: 'codeQuality' });
      const busyRuns = [];
      for (const p of busy) busyRuns.push(await startExecution(s.rt, p, { user: 'ada' }));
      const ids = busyRuns.map((e) => e.id);
      await eventually(async () => (await statuses(s, ids)).filter((st) => st === 'RUNNING').length === 2);
      const otherRun = await startExecution(s.rt, other, { user: 'bob' });
      // The other program's build gets a slot although the busy program has work queued.
      await eventually(async () => (await statuses(s, [otherRun.id]))[0] === 'RUNNING');
      const busyNow = await statuses(s, ids);
      expect(busyNow.filter((st) => st === 'RUNNING')).toHaveLength(2);
      expect(busyNow.filter((st) => st === 'NOT_STARTED')).toHaveLength(2);
      // One of the busy program's executions ends: exactly one queued build takes its slot.
      await cancelExecution(s.rt, ids[busyNow.indexOf('RUNNING')]!, 'ada');
      await eventually(async () => (await statuses(s, ids)).filter((st) => st === 'NOT_STARTED').length === 1);
      expect((await statuses(s, ids)).filter((st) => st === 'RUNNING')).toHaveLength(2);
      for (const id of [...ids, otherRun.id]) await cancelExecution(s.rt, id, 'ada').catch(() => undefined);
    } finally {
      await s.close();
      store.cleanup();
    }
  });

  // Several engines share one database on PostgreSQL only (SQLite runs one Slipway).
  it.runIf(backend === 'postgres')('two engines on one database together respect the quota', async () => {
    const store = await testStore(backend);
    // Both active, whatever the host's cores (host-slot.ts).
    const options = { handlers: blockingBuild(), concurrency: 4, programConcurrency: 2, activeEngines: 2 };
    const a = await store.open({ ...options, workerId: 'engine-a' });
    const b = await store.open({ ...options, workerId: 'engine-b' });
    try {
      const pipelines = await pipelinesOfOneProgram(a, 5);
      const ids: string[] = [];
      for (const p of pipelines) ids.push((await startExecution(a.rt, p, { user: 'ada' })).id);
      await eventually(async () => (await statuses(a, ids)).filter((st) => st === 'RUNNING').length === 2);
      // Both engines were woken and had free slots: still only two of the program's builds run.
      a.engine.poke();
      b.engine.poke();
      await eventually(async () => (await statuses(a, ids)).filter((st) => st === 'NOT_STARTED').length === 3);
      const leased = await a.rt.db.kysely.selectFrom('steps').select('lease_owner')
        .where('action', '=', 'build').where('lease_owner', 'is not', null).execute();
      expect(leased).toHaveLength(2);
      for (const id of ids) await cancelExecution(a.rt, id, 'ada').catch(() => undefined);
    } finally {
      await a.close();
      await b.close();
      store.cleanup();
    }
  });
});
