// At-least-once delivery across kill -9: engine processes that also deliver webhooks are killed
// at random moments mid-execution; once the executions end, every event the journal holds has
// been accepted by the endpoint, and the journal holds exactly the events the state implies.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isExecutionTerminal, isStepTerminal } from '../../src/domain/transitions.ts';
import { startExecution } from '../../src/engine/commands.ts';
import { eventsAfter } from '../../src/store/events.ts';
import { getExecution } from '../../src/store/executions.ts';
import { createWebhook } from '../../src/store/webhooks.ts';
import { killHard, startEngine } from '../support/engine-process.ts';
import { seedPipeline } from '../support/seed.ts';
import { BACKENDS, eventually, testStore } from '../support/slipway.ts';
import { accepted, startReceiver } from '../support/webhook-receiver.ts';


describe.each(BACKENDS)('webhooks across kill -9 on %s', (backend) => {
  it('every journal event is delivered; the journal matches the executions\' state', async () => {
    const store = await testStore(backend);
    const receiver = await startReceiver();
    // Some refusals too, so retries are in flight when the kills come.
    receiver.statusFor = (n) => (n % 7 === 3 ? 500 : 200);
    const admin = await store.open({ runEngine: false });
    const executions: { id: string; programId: string }[] = [];
    for (let i = 0; i < 8; i++) {
      const pipeline = await seedPipeline(admin, { options: { approval: false } });
      await createWebhook(admin.rt.db.kysely, admin.rt.secrets, {
        programId: pipeline.programId, url: receiver.url, secret: 'crash-secret',
        events: ['execution.started', 'execution.ended', 'step.started', 'step.waiting', 'step.ended'],
      });
      executions.push({ id: (await startExecution(admin.rt, pipeline, { user: 'crash' })).id, programId: pipeline.programId });
    }
    const env = { EFFECTS_FILE: join(store.dataDir, 'effects.log'), LEASE_MS: '300', STEP_MS: '15', WEBHOOK_BASE: 'http://slipway.test' };
    for (let kills = 0; kills < 8; kills++) {
      const child = await startEngine(store, env);
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 300));
      await killHard(child);
    }
    const last = await startEngine(store, env);
    const db = admin.rt.db.kysely;
    try {
      await eventually(async () => {
        for (const e of executions) if (!isExecutionTerminal((await getExecution(db, e.id))!.status)) return false;
        return true;
      }, 90_000);
      const journal = (await Promise.all(executions.map((e) => eventsAfter(db, e.programId, 0, 10_000)))).flat();
      // At least once: every journal event reached the endpoint and was accepted.
      await eventually(async () => {
        const got = new Set(accepted(receiver).map((e) => e.event_id));
        return journal.every((j) => got.has(j.record.eventId));
      }, 60_000);
      // None invented, none lost: the journal says what the state says, one end per ended step (a
      // worker whose lease lapsed cannot complete a step another one took over: the completion locks the rows).
      for (const { id } of executions) {
        const e = (await getExecution(db, id))!;
        const mine = journal.filter((j) => j.record.executionId === id).map((j) => j.record);
        expect(mine.filter((r) => r.kind === 'execution.started')).toHaveLength(1);
        expect(mine.filter((r) => r.kind === 'execution.ended').map((r) => r.status)).toEqual([e.status]);
        for (const s of e.steps) {
          const ended = mine.filter((r) => r.kind === 'step.ended' && r.stepId === s.id);
          if (isStepTerminal(s.status)) expect(ended.map((r) => r.status), `step ${s.action}`).toEqual([s.status]);
          else expect(ended, `step ${s.action}`).toEqual([]);
        }
        expect(mine[0]!.kind).toBe('execution.started');
        expect(mine.at(-1)!.kind).toBe('execution.ended');
      }
      // Every POST carried a journal event (nothing delivered that the journal does not hold).
      const ids = new Set(journal.map((j) => j.record.eventId));
      for (const r of receiver.received) expect(ids.has(JSON.parse(r.body).event_id)).toBe(true);
    } finally {
      await killHard(last);
      await admin.close();
      await receiver.close();
      store.cleanup();
    }
  }, 240_000);
});
