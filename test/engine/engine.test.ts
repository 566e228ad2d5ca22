import { afterEach, describe, expect, it } from 'vitest';
import type { Slipway } from '../../src/app.ts';
import { ManualClock } from '../../src/engine/clock.ts';
import {
  advanceStep, cancelExecution, cancelStep, PipelineBusyError, reExecute, startExecution,
} from '../../src/engine/commands.ts';
import type { Execution, Pipeline } from '../../src/domain/model.ts';
import { listExecutionArtifacts } from '../../src/store/artifacts.ts';
import { getExecution } from '../../src/store/executions.ts';
import { testHandlers, untilAborted } from '../support/engine-handlers.ts';
import { seedPipeline } from '../support/seed.ts';
import { BACKENDS, eventually, testStore, type TestStore } from '../support/slipway.ts';

const DAY = 86_400_000;

describe.each(BACKENDS)('engine on %s', (backend) => {
  let store: TestStore;
  let slipway: Slipway | undefined;
  afterEach(async () => {
    await slipway?.close();
    slipway = undefined;
    store?.cleanup();
  });

  const open = async (handlers = testHandlers(), clock?: ManualClock, runEngine = true) => {
    slipway = await store.open({ handlers, runEngine, ...(clock ? { clock } : {}) });
    return slipway;
  };
  const reload = (s: Slipway, id: string) => getExecution(s.rt.db.kysely, id) as Promise<Execution>;
  const waitFor = (s: Slipway, id: string, check: (e: Execution) => boolean) =>
    eventually(async () => { const e = await reload(s, id); return check(e) && e; });
  const stepOf = (e: Execution, action: string, env?: string) =>
    e.steps.find((st) => st.action === action && (!env || st.environmentType === env))!;

  it('runs a production pipeline to approval, then to the end once approved', async () => {
    store = await testStore(backend);
    const calls: string[] = [];
    const s = await open(testHandlers({}, calls));
    const pipeline = await seedPipeline(s);
    const started = await startExecution(s.rt, pipeline, { user: 'ada' });
    expect(started.status).toBe('RUNNING');
    expect(started.artifactsVersion).toMatch(/^\d{4}\.\d{3,4}\.\d{6}\.\d{10}$/);

    const waiting = await waitFor(s, started.id, (e) => stepOf(e, 'approval').status === 'WAITING');
    expect(calls).toEqual([
      'validate', 'build', 'codeQuality', 'buildImage', 'deploy:stage', 'productTest:stage', 'functionalTest:stage',
      'uiTest:stage', 'contentAudit:stage', 'approval:prod',
    ]);
    await expect(startExecution(s.rt, pipeline, { user: 'ada' })).rejects.toBeInstanceOf(PipelineBusyError);

    await advanceStep(s.rt, stepOf(waiting, 'approval').id, { approved: true }, 'grace');
    const done = await waitFor(s, started.id, (e) => e.status === 'FINISHED');
    expect(done.steps.every((st) => st.status === 'FINISHED')).toBe(true);
    expect(stepOf(done, 'approval').details).toMatchObject({ input: { approved: true }, user: 'grace' });
    expect(done.user).toBe('ada');
    // The pipeline is free again.
    const next = await startExecution(s.rt, pipeline, { user: 'ada' });
    await cancelExecution(s.rt, next.id, 'ada');
    await waitFor(s, next.id, (e) => e.status === 'CANCELLED');
  });

  it('cancel stops a running step (its handler is aborted) and releases the pipeline', async () => {
    store = await testStore(backend);
    const s = await open(testHandlers({ build: (ctx) => untilAborted(ctx.signal) }));
    const pipeline = await seedPipeline(s);
    const e = await startExecution(s.rt, pipeline, { user: 'ada' });
    const running = await waitFor(s, e.id, (x) => stepOf(x, 'build').status === 'RUNNING');
    await cancelStep(s.rt, stepOf(running, 'build').id, { cancel: true }, 'ada');
    const cancelled = await waitFor(s, e.id, (x) => x.status === 'CANCELLED');
    expect(stepOf(cancelled, 'build').status).toBe('CANCELLED');
    expect(stepOf(cancelled, 'codeQuality').status).toBe('NOT_STARTED');
  });

  it('an important quality-gate failure waits; override continues, rejection fails', async () => {
    store = await testStore(backend);
    const gate = async () => ({
      outcome: 'waiting' as const, reason: 'coverage below 50%',
      metrics: [{ kpi: 'coverage', severity: 'important' as const, passed: false, override: false, actualValue: '20', expectedValue: '50', comparator: 'GTE' as const }],
    });
    const s = await open(testHandlers({ codeQuality: gate }));
    const pipeline = await seedPipeline(s, { options: { approval: false } });
    const first = await startExecution(s.rt, pipeline, { user: 'ada' });
    let e = await waitFor(s, first.id, (x) => stepOf(x, 'codeQuality').status === 'WAITING');
    await expect(advanceStep(s.rt, stepOf(e, 'codeQuality').id, { metrics: [] }, 'ada')).rejects.toThrow(/coverage/);
    await advanceStep(s.rt, stepOf(e, 'codeQuality').id, { metrics: [{ kpi: 'coverage', override: true }] }, 'ada');
    e = await waitFor(s, first.id, (x) => x.status === 'FINISHED');
    expect(stepOf(e, 'codeQuality').metrics[0]).toMatchObject({ passed: false, override: true });

    const second = await startExecution(s.rt, pipeline, { user: 'ada' });
    e = await waitFor(s, second.id, (x) => stepOf(x, 'codeQuality').status === 'WAITING');
    await cancelStep(s.rt, stepOf(e, 'codeQuality').id, { override: false }, 'bob');
    e = await waitFor(s, second.id, (x) => x.status === 'FAILED');
    expect(stepOf(e, 'codeQuality').status).toBe('FAILED');
    expect(stepOf(e, 'buildImage').status).toBe('NOT_STARTED');
  });

  it('a graceful stop hands a running step to the next engine at once (no lease wait)', async () => {
    store = await testStore(backend);
    let runs = 0;
    const handlers = () => testHandlers({
      build: async (ctx) => {
        runs++;
        if (runs === 1) return untilAborted(ctx.signal);
        return { outcome: 'finished' };
      },
    });
    let s = await open(handlers());
    const pipeline = await seedPipeline(s, { options: { approval: false } });
    const e = await startExecution(s.rt, pipeline, { user: 'ada' });
    await waitFor(s, e.id, (x) => stepOf(x, 'build').status === 'RUNNING' && runs === 1);
    await s.close();
    // The invariant, not a stopwatch: the stopped engine let go of its lease (the default lease
    // is 30 s; a lease let go is claimable at once), and the next engine finishes the step.
    s = await open(handlers(), undefined, false);
    expect(stepOf(await reload(s, e.id), 'build').leaseExpiresAt?.getTime()).toBe(0);
    await s.close();
    s = await open(handlers());
    const done = await waitFor(s, e.id, (x) => x.status === 'FINISHED');
    expect(runs).toBe(2);
    expect(stepOf(done, 'build').attempts).toBe(2);
  });

  it('a handler that throws ends its step in ERROR with the reason', async () => {
    store = await testStore(backend);
    const s = await open(testHandlers({ build: async () => { throw new Error('disk full'); } }));
    const e = await startExecution(s.rt, await seedPipeline(s), { user: 'ada' });
    const failed = await waitFor(s, e.id, (x) => x.status === 'ERROR');
    expect(stepOf(failed, 'build')).toMatchObject({ status: 'ERROR', reason: 'disk full' });
  });

  it('a waiting step times out after 14 days, across a restart (injected clock)', async () => {
    store = await testStore(backend);
    const clock = new ManualClock();
    let s = await open(testHandlers(), clock);
    const pipeline = await seedPipeline(s);
    const e = await startExecution(s.rt, pipeline, { user: 'ada' });
    await waitFor(s, e.id, (x) => stepOf(x, 'approval').status === 'WAITING');
    await s.close();
    clock.advance(13 * DAY);
    s = await open(testHandlers(), clock);
    await s.engine.idle(); // its timers fired, its claims made: nothing was due yet
    expect(stepOf(await reload(s, e.id), 'approval').status).toBe('WAITING');
    clock.advance(DAY + 1000);
    const failed = await waitFor(s, e.id, (x) => x.status === 'FAILED');
    expect(stepOf(failed, 'approval').reason).toMatch(/timed out after waiting 14 days/);
  });

  it('a scheduled deployment starts at its time, across a restart', async () => {
    store = await testStore(backend);
    const clock = new ManualClock();
    let s = await open(testHandlers(), clock);
    const pipeline = await seedPipeline(s, { options: { approval: false, schedule: true, waitTimeoutMs: DAY } });
    const e = await startExecution(s.rt, pipeline, { user: 'ada' });
    const x = await waitFor(s, e.id, (y) => stepOf(y, 'schedule').status === 'WAITING');
    const at = new Date(clock.now() + 3_600_000).toISOString();
    await advanceStep(s.rt, stepOf(x, 'schedule').id, { type: 'SCHEDULED', schedule: at }, 'ada');
    await s.close();
    clock.advance(3_500_000);
    s = await open(testHandlers(), clock);
    await s.engine.idle(); // its timers fired, its claims made: nothing was due yet
    expect(stepOf(await reload(s, e.id), 'schedule').status).toBe('WAITING');
    clock.advance(200_000);
    const done = await waitFor(s, e.id, (y) => y.status === 'FINISHED');
    expect(stepOf(done, 'schedule').details.scheduledAt).toBe(at);
  });

  it('a timeout never approves: with "continue" a quality gate goes on, the go-live approval still fails', async () => {
    store = await testStore(backend);
    const clock = new ManualClock();
    const calls: string[] = [];
    const s = await open(testHandlers({
      codeQuality: async () => ({ outcome: 'waiting', reason: 'important metrics failed' }),
    }, calls), clock);
    const pipeline = await seedPipeline(s, { options: { approval: true, waitTimeoutOutcome: 'continue', waitTimeoutMs: DAY } });
    const e = await startExecution(s.rt, pipeline, { user: 'ada' });
    await waitFor(s, e.id, (y) => stepOf(y, 'codeQuality').status === 'WAITING');
    clock.advance(DAY + 1); // the gate times out, and the pipeline says: continue
    const x = await waitFor(s, e.id, (y) => stepOf(y, 'approval').status === 'WAITING');
    expect(stepOf(x, 'codeQuality')).toMatchObject({ status: 'FINISHED', reason: expect.stringMatching(/the pipeline continues/) });
    clock.advance(DAY + 1); // nobody approved: the execution fails, production is untouched
    const failed = await waitFor(s, e.id, (y) => y.status === 'FAILED');
    expect(stepOf(failed, 'approval')).toMatchObject({ status: 'FAILED', reason: expect.stringMatching(/^timed out after waiting 1 days?$/) });
    expect(stepOf(failed, 'deploy', 'prod').status).toBe('NOT_STARTED');
    expect(calls).not.toContain('deploy:prod');
  });

  it('pause before production waits for resume; re-execute reuses the artifacts by reference', async () => {
    store = await testStore(backend);
    const calls: string[] = [];
    const s = await open(testHandlers({
      build: async (ctx) => {
        if (ctx.execution.trigger !== 'RE_EXECUTE') {
          const blob = await ctx.artifacts.putBytes('app image bytes');
          await ctx.recordArtifact({ ...blob, type: 'APP_IMAGE', name: 'app' });
        }
        return { outcome: 'finished' };
      },
    }, calls));
    const pipeline: Pipeline = await seedPipeline(s, { options: { approval: false, pauseBeforeProd: true } });
    const e = await startExecution(s.rt, pipeline, { user: 'ada' });
    let x = await waitFor(s, e.id, (y) => stepOf(y, 'deploy', 'prod').status === 'WAITING');
    expect(calls).not.toContain('deploy:prod');
    await advanceStep(s.rt, stepOf(x, 'deploy', 'prod').id, { resume: true }, 'ada');
    x = await waitFor(s, e.id, (y) => y.status === 'FINISHED');
    expect(calls.at(-1)).toBe('deploy:prod');

    const again = await reExecute(s.rt, pipeline.id, stepOf(x, 'deploy', 'prod').id, 'ada');
    expect(again.trigger).toBe('RE_EXECUTE');
    expect(again.steps.map((st) => st.action)).toEqual(['validate', 'build', 'deploy']);
    expect(again.artifactsVersion).toBe(x.artifactsVersion);
    const [original] = await listExecutionArtifacts(s.rt.db.kysely, e.id);
    const [copied] = await listExecutionArtifacts(s.rt.db.kysely, again.id);
    expect(copied?.digest).toBe(original?.digest);
    // The earlier execution is no longer the last one: it cannot be re-executed.
    await expect(reExecute(s.rt, pipeline.id, stepOf(x, 'deploy', 'prod').id, 'ada')).rejects.toThrow(/last execution/);
    // The re-execution's production deploy pauses too, as in a normal execution.
    const paused = await waitFor(s, again.id, (y) => stepOf(y, 'deploy', 'prod').status === 'WAITING');
    expect(stepOf(paused, 'deploy', 'prod').reason).toMatch(/paused before deploying to production/);
    // Cancelled at its pause, then re-executed: still no production deploy without a resume.
    await cancelExecution(s.rt, again.id, 'ada');
    const cancelled = await waitFor(s, again.id, (y) => y.status === 'CANCELLED');
    const third = await reExecute(s.rt, pipeline.id, stepOf(cancelled, 'deploy', 'prod').id, 'ada');
    await waitFor(s, third.id, (y) => stepOf(y, 'deploy', 'prod').status === 'WAITING');
    expect(calls.filter((c) => c === 'deploy:prod')).toHaveLength(1);
    await cancelExecution(s.rt, third.id, 'ada');
    await waitFor(s, third.id, (y) => y.status === 'CANCELLED');
  });
});
