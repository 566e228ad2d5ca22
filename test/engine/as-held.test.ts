// A step's completion, and the start of a claimed step, are decided from the state the engine
// holds (on PostgreSQL written in one guarded statement, engine/as-held.ts): whatever changed
// meanwhile is never overwritten, and a guarded write whose state is stale writes nothing at
// all, journal included.
import { afterEach, describe, expect, it } from 'vitest';
import type { Slipway } from '../../src/app.ts';
import type { Execution } from '../../src/domain/model.ts';
import { applyAsHeld } from '../../src/engine/as-held.ts';
import { holdContextReads, readContext, type ContextReads } from '../../src/engine/context.ts';
import { startExecution } from '../../src/engine/commands.ts';
import { claimStep, getExecution } from '../../src/store/executions.ts';
import { writeIfUnchanged } from '../../src/store/guarded-writes.ts';
import { toId } from '../../src/store/json.ts';
import { patchVariables } from '../../src/store/variables.ts';
import { testHandlers, untilAborted } from '../support/engine-handlers.ts';
import { seedPipeline } from '../support/seed.ts';
import { BACKENDS, eventually, testStore, type TestStore } from '../support/slipway.ts';

describe.each(BACKENDS)('completion on %s', (backend) => {
  let store: TestStore | undefined;
  let slipway: Slipway | undefined;
  afterEach(async () => {
    await slipway?.close();
    slipway = undefined;
    store?.cleanup();
  });
  const finished = (s: Slipway, id: string) =>
    eventually(async () => { const e = await getExecution(s.rt.db.kysely, id); return e && e.status !== 'RUNNING' && e.status !== 'CANCELLING' && e; });

  it('progress the handler wrote and its result\'s details both stay, and the next step runs', async () => {
    store = await testStore(backend);
    slipway = await store.open({
      handlers: testHandlers({
        build: async (ctx) => {
          await ctx.updateDetails({ progress: 1 });
          return { outcome: 'finished', details: { result: 2 } };
        },
      }),
    });
    const e = await startExecution(slipway.rt, await seedPipeline(slipway, { options: { approval: false } }), { user: 'ada' });
    const done = await finished(slipway, e.id);
    expect(done.status).toBe('FINISHED');
    expect(done.steps.find((s) => s.action === 'build')!.details).toMatchObject({ progress: 1, result: 2 });
    expect(done.steps.every((s) => s.status === 'FINISHED')).toBe(true);
  });

  it('each step\'s context holds its program\'s variables and environment as they are when it starts', async () => {
    store = await testStore(backend);
    const seen: Record<string, unknown> = {};
    let pipelineId = '';
    slipway = await store.open({
      handlers: testHandlers({
        build: async (ctx) => {
          seen.build = ctx.variables;
          // Changed while this step runs: the steps after it see the new values.
          await patchVariables(slipway!.rt.db.kysely, slipway!.rt.secrets, 'pipeline', pipelineId, [
            { name: 'WHO', value: 'after', type: 'string' },
          ]);
          return { outcome: 'finished' };
        },
        deploy: async (ctx) => {
          seen[`deploy:${ctx.step.environmentType}`] = { environment: ctx.environment?.id, variables: ctx.environmentVariables, secrets: ctx.secrets };
          return { outcome: 'finished' };
        },
        functionalTest: async (ctx) => {
          seen.functionalTest = ctx.variables;
          return { outcome: 'finished' };
        },
      }),
    });
    const pipeline = await seedPipeline(slipway, { options: { approval: false } });
    pipelineId = pipeline.id;
    const { kysely } = slipway.rt.db;
    await patchVariables(kysely, slipway.rt.secrets, 'pipeline', pipeline.id, [{ name: 'WHO', value: 'before', type: 'string' }]);
    await patchVariables(kysely, slipway.rt.secrets, 'environment', pipeline.environments.stage!, [
      { name: 'TOKEN', value: 'stage-secret', type: 'secretString' }, { name: 'ROLE', value: 'pub', type: 'string', service: 'publish' },
    ]);
    const e = await startExecution(slipway.rt, pipeline, { user: 'ada' });
    expect((await finished(slipway, e.id)).status).toBe('FINISHED');
    expect(seen.build).toEqual({ WHO: 'before' });
    expect(seen.functionalTest).toEqual({ WHO: 'after' });
    expect(seen['deploy:stage']).toEqual({
      environment: pipeline.environments.stage, variables: { author: { TOKEN: 'stage-secret' }, publish: { TOKEN: 'stage-secret', ROLE: 'pub' } },
      secrets: ['stage-secret'],
    });
    expect(seen['deploy:prod']).toEqual({ environment: pipeline.environments.prod, variables: { author: {}, publish: {} }, secrets: [] });
  });

  it('a cancel that lands while the step runs ends the execution CANCELLED, not FINISHED', async () => {
    store = await testStore(backend);
    let release: (() => void) | undefined;
    slipway = await store.open({
      handlers: testHandlers({
        build: async () => {
          // The cancel is written behind the engine's back (as by another process, unheard),
          // and the handler still reports success: the held RUNNING execution is stale.
          await new Promise<void>((r) => { release = r; });
          return { outcome: 'finished' };
        },
        codeQuality: async (ctx) => untilAborted(ctx.signal),
      }),
    });
    const e = await startExecution(slipway.rt, await seedPipeline(slipway, { options: { approval: false } }), { user: 'ada' });
    await eventually(async () => release !== undefined);
    await slipway.rt.db.kysely.updateTable('executions').set({ status: 'CANCELLING' }).where('id', '=', toId(e.id)).execute();
    release!();
    const done = await finished(slipway, e.id);
    expect(done.status).toBe('CANCELLED');
    expect(done.steps.find((s) => s.action === 'build')!.status).toBe('FINISHED');
    expect(done.steps.filter((s) => s.status === 'RUNNING')).toEqual([]);
  });
});

/** An execution started on PostgreSQL with no engine running: the test plays the engine. */
async function withStartedExecution(fn: (s: Slipway, e: Execution) => Promise<void>): Promise<void> {
  const store = await testStore('postgres');
  const s = await store.open({ runEngine: false });
  try {
    await fn(s, await startExecution(s.rt, await seedPipeline(s, { options: { approval: false } }), { user: 'ada' }));
  } finally {
    await s.close();
    store.cleanup();
  }
}

const journalLength = async (s: Slipway) =>
  Number((await s.rt.db.kysely.selectFrom('events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

describe('guarded writes (PostgreSQL)', () => {
  it('write nothing, journal included, when a row they were decided from has changed', () => withStartedExecution(async (s, e) => {
    const db = s.rt.db.kysely;
    const held = (await getExecution(db, e.id))!;
    const first = held.steps[0]!;
    const journal = () => journalLength(s);
    const before = await journal();
    const record = {
      eventId: `test-${Date.now()}`, kind: 'step.updated', programId: e.programId, pipelineId: e.pipelineId,
      executionId: e.id, published: Date.now(), org: 'test', objectPath: '/', stepId: first.id, status: 'RUNNING',
    } as never;
    const writes = { steps: [{ id: first.id, patch: { reason: 'written' } }], events: [record] };
    // Another writer changed the step's details since it was read.
    await db.updateTable('steps').set({ details: '{"other":true}' }).where('id', '=', toId(first.id)).execute();
    const stale = { executionId: held.id, executionStatus: held.status, steps: [first] };
    expect((await writeIfUnchanged(s.rt.db, stale, writes)).applied).toBe(false);
    expect((await getExecution(db, e.id))!.steps[0]!.reason).toBeUndefined();
    expect(await journal()).toBe(before);
    // From the fresh state, the same writes are made, the journal row with them.
    const fresh = (await getExecution(db, e.id))!;
    expect((await writeIfUnchanged(s.rt.db, { ...stale, steps: [fresh.steps[0]!] }, writes)).applied).toBe(true);
    expect((await getExecution(db, e.id))!.steps[0]!.reason).toBe('written');
    expect(await journal()).toBe(before + 1);
  }));
});

describe('a claimed step\'s start (PostgreSQL)', () => {
  it('is written from the state it was claimed in, with its context read by the same statement, or not at all', () => withStartedExecution(async (s, e) => {
    const db = s.rt.db.kysely;
    const now = s.rt.clock.now();
    const claim = (await claimStep(s.rt.db, 'w1', now, 30_000, 1))!;
    expect(claim).toMatchObject({ step: { executionId: e.id, index: 0, leaseOwner: 'w1' }, interrupted: false });
    // Fair sharing, counted by the claim itself: the program holds its one slot.
    expect(await claimStep(s.rt.db, 'w2', now, 30_000, 1)).toBeUndefined();
    const journal = () => journalLength(s);
    const before = await journal();
    const held = (await getExecution(db, e.id))!;
    const step = held.steps[0]!;
    // A cancel lands between the claim and the start: nothing is written.
    await db.updateTable('executions').set({ status: 'CANCELLING' }).where('id', '=', toId(e.id)).execute();
    expect(await applyAsHeld(s.rt, held, step, 'claim', {}, now)).toBeUndefined();
    expect((await getExecution(db, e.id))!.steps[0]!.status).toBe('NOT_STARTED');
    expect(await journal()).toBe(before);
    // From the state as it is, the step starts and its context comes with the write.
    await db.updateTable('executions').set({ status: 'RUNNING' }).where('id', '=', toId(e.id)).execute();
    const deps = { rt: s.rt, logs: s.logs, artifacts: s.artifacts, driver: s.driver, dataDir: s.config.dataDir };
    let reads: Promise<ContextReads> | undefined;
    const started = await applyAsHeld(s.rt, held, step, 'claim', {}, now, {
      readsFor: (runs) => {
        const r = holdContextReads(deps, held, runs);
        reads = r.result;
        return r;
      },
    });
    expect(started?.events.map((x) => x.type)).toEqual(['step.started']);
    expect((await getExecution(db, e.id))!.steps[0]).toMatchObject({ status: 'RUNNING', leaseOwner: 'w1' });
    expect(await journal()).toBe(before + 1);
    const { program, pipeline } = await reads!;
    expect([program?.id, pipeline?.id]).toEqual([e.programId, e.pipelineId]);
    // The same as the context's reads made by themselves.
    expect(await reads).toEqual(await readContext(deps, held, step));
  }));
});
