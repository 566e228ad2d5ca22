// A step's details and its rollback are written only by the worker that holds its lease, and
// what they announce is the step's own status.
import { afterEach, describe, expect, it } from 'vitest';
import type { Slipway } from '../../src/app.ts';
import type { Execution } from '../../src/domain/model.ts';
import { startExecution } from '../../src/engine/commands.ts';
import type { SlipwayEvent } from '../../src/events/bus.ts';
import { getExecution } from '../../src/store/executions.ts';
import { toId } from '../../src/store/json.ts';
import { testHandlers } from '../support/engine-handlers.ts';
import { seedPipeline } from '../support/seed.ts';
import { BACKENDS, eventually, testStore, type TestStore } from '../support/slipway.ts';

describe.each(BACKENDS)('step writes on %s', (backend) => {
  let store: TestStore | undefined;
  let slipway: Slipway | undefined;
  afterEach(async () => {
    await slipway?.close();
    slipway = undefined;
    store?.cleanup();
  });
  const finished = (s: Slipway, id: string) =>
    eventually(async () => { const e = await getExecution(s.rt.db.kysely, id); return e && e.status !== 'RUNNING' && e; });
  const build = (e: Execution) => e.steps.find((st) => st.action === 'build')!;

  it('a worker that lost its lease can neither overwrite the details nor roll the step back', async () => {
    store = await testStore(backend);
    const refusals: string[] = [];
    let runs = 0;
    slipway = await store.open({
      leaseMs: 1000,
      handlers: testHandlers({
        build: async (ctx) => {
          if (++runs > 1) return { outcome: 'finished' };
          await ctx.updateDetails({ progress: 1 });
          // Another worker takes the step over (as after a lease that ran out).
          const db = slipway!.rt.db.kysely;
          const row = await db.selectFrom('steps').select('details').where('id', '=', toId(ctx.step.id)).executeTakeFirstOrThrow();
          await db.updateTable('steps').set({
            lease_owner: 'another-worker', details: JSON.stringify({ ...JSON.parse(row.details) as object, takenOver: true }),
          }).where('id', '=', toId(ctx.step.id)).execute();
          for (const write of [() => ctx.updateDetails({ progress: 2 }), () => ctx.rollingBack('late')]) {
            await write().then(() => refusals.push('written'), (e: Error) => refusals.push(e.message));
          }
          return { outcome: 'failed', reason: 'a late result', details: { late: true } };
        },
      }),
    });
    const e = await startExecution(slipway.rt, await seedPipeline(slipway, { options: { approval: false } }), { user: 'ada' });
    // The lease of the vanished "another-worker" runs out, and the step runs again, to the end.
    const done = await finished(slipway, e.id);
    expect(refusals).toEqual([expect.stringMatching(/no longer held/), expect.stringMatching(/no longer held/)]);
    expect(done.status).toBe('FINISHED');
    expect(runs).toBe(2);
    expect(build(done).details).toMatchObject({ progress: 1, takenOver: true });
    expect(build(done).details).not.toHaveProperty('late');
  });

  it('progress written while rolling back is announced as ROLLING_BACK, never RUNNING', async () => {
    store = await testStore(backend);
    slipway = await store.open({
      handlers: testHandlers({
        build: async (ctx) => {
          await ctx.rollingBack('health check failed');
          await ctx.rollingBack('asked twice'); // once is enough: no second transition
          await ctx.updateDetails({ rolledBackPairs: 1 });
          return { outcome: 'rolledBack', reason: 'health check failed' };
        },
      }),
    });
    const heard: SlipwayEvent[] = [];
    slipway.rt.bus.subscribe((ev) => heard.push(ev));
    const e = await startExecution(slipway.rt, await seedPipeline(slipway, { options: { approval: false } }), { user: 'ada' });
    const done = await finished(slipway, e.id);
    expect(done.status).toBe('FAILED');
    expect(build(done)).toMatchObject({ status: 'ROLLED_BACK', details: { rolledBackPairs: 1 } });
    const updates = heard.filter((ev) => ev.type === 'step.updated' && ev.stepId === build(done).id);
    expect(updates.map((ev) => 'status' in ev && ev.status)).toEqual(['ROLLING_BACK', 'ROLLING_BACK']);
  });
});
