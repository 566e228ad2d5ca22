// Webhook delivery on SQLite and PostgreSQL: every committed state change of an execution
// reaches the endpoint once accepted, signed, in the execution's order; 5xx answers are
// retried; a rolled-back transaction announces nothing.
import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { advanceStep, startExecution } from '../../src/engine/commands.ts';
import { transact } from '../../src/engine/runtime.ts';
import { listDeliveries } from '../../src/store/deliveries.ts';
import { eventsAfter } from '../../src/store/events.ts';
import { createWebhook } from '../../src/store/webhooks.ts';
import { getExecution } from '../../src/store/executions.ts';
import { testHandlers } from '../support/engine-handlers.ts';
import { seedPipeline } from '../support/seed.ts';
import { BACKENDS, eventually, testStore } from '../support/slipway.ts';
import { accepted, startReceiver, type Receiver } from '../support/webhook-receiver.ts';

const SECRET = 'shh-this-is-secret';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setUp(backend: (typeof BACKENDS)[number], delivery: { timeoutMs?: number; maxAttempts?: number } = {}) {
  const store = await testStore(backend);
  const slipway = await store.open({ handlers: testHandlers() });
  const receiver = await startReceiver();
  cleanups.push(() => store.cleanup(), () => slipway.close(), () => receiver.close());
  const pipeline = await seedPipeline(slipway, { options: { approval: true } });
  const webhook = await createWebhook(slipway.rt.db.kysely, slipway.rt.secrets, {
    programId: pipeline.programId, url: receiver.url, secret: SECRET,
    events: ['execution.started', 'execution.ended', 'step.started', 'step.waiting', 'step.ended'],
  });
  slipway.startWebhooks({ baseUrl: 'http://slipway.test', retryBaseMs: 20, retryCapMs: 100, pollMs: 200, ...delivery });
  return { slipway, receiver, pipeline, webhook };
}

const kinds = (r: Receiver) => accepted(r).map((e) => `${e.slipway.type}${e.slipway.action ? `:${e.slipway.action}` : ''}`);

describe.each(BACKENDS)('webhook delivery on %s', (backend) => {
  it('delivers an execution\'s events signed, once each, in the execution\'s order', async () => {
    const { slipway, receiver, pipeline } = await setUp(backend);
    const execution = await startExecution(slipway.rt, pipeline, { user: 'ada' });
    await eventually(async () => kinds(receiver).includes('step.waiting:approval'));
    const approval = (await getExecution(slipway.rt.db.kysely, execution.id))!.steps.find((s) => s.action === 'approval')!;
    await advanceStep(slipway.rt, approval.id, { approved: true }, 'ada');
    await eventually(async () => kinds(receiver).includes('execution.ended'));

    for (const r of receiver.received) {
      const expected = createHmac('sha256', SECRET).update(r.body).digest('base64');
      expect(r.headers['x-adobe-signature']).toBe(expected);
      expect(r.headers['x-adobe-event-id']).toBe(JSON.parse(r.body).event_id);
      expect(r.headers['content-type']).toBe('application/json');
    }
    const events = accepted(receiver);
    expect(new Set(events.map((e) => e.event_id)).size).toBe(events.length);
    // The same events as the journal, in the journal's order.
    const journal = await eventsAfter(slipway.rt.db.kysely, pipeline.programId, 0, 1000);
    expect(events.map((e) => e.event_id)).toEqual(journal.map((j) => j.record.eventId));
    const k = kinds(receiver);
    expect(k[0]).toBe('execution.started');
    expect(k.at(-1)).toBe('execution.ended');
    expect(k).toContain('step.started:build');
    expect(k).toContain('step.ended:codeQuality');
    expect(k).not.toContain('step.started:codeQuality');
    expect(k).not.toContain('step.started:approval');
    const start = events[0]!;
    expect(start.event['activitystreams:actor']).toEqual({ '@type': 'xdmImsUser', 'xdmImsUser:id': 'ada' });
    expect((start.event['activitystreams:object'] as { '@id': string })['@id'])
      .toBe(`http://slipway.test/api/program/${pipeline.programId}/pipeline/${pipeline.id}/execution/${execution.id}`);
    expect(events.at(-1)!.slipway.status).toBe('FINISHED');
  });

  it('retries a 5xx answer with backoff until the endpoint accepts', async () => {
    const { slipway, receiver, pipeline, webhook } = await setUp(backend);
    receiver.statusFor = (n) => (n < 3 ? 503 : 200);
    await startExecution(slipway.rt, pipeline, { user: 'ada' });
    await eventually(async () => kinds(receiver).includes('step.waiting:approval'));
    expect(receiver.received.slice(0, 3).map((r) => r.status)).toEqual([503, 503, 503]);
    // The first event was posted until accepted, before any later event of the execution.
    const firstId = JSON.parse(receiver.received[0]!.body).event_id;
    expect(receiver.received.slice(0, 4).map((r) => JSON.parse(r.body).event_id)).toEqual([firstId, firstId, firstId, firstId]);
    const deliveries = await listDeliveries(slipway.rt.db.kysely, webhook.id, 100);
    const first = deliveries.at(-1)!;
    expect(first).toMatchObject({ status: 'delivered', attempts: 4, responseCode: 200 });
  });

  it('a hanging endpoint holds up only its own subscription; its deliveries fail after the last attempt', async () => {
    const { slipway, receiver, pipeline, webhook } = await setUp(backend, { timeoutMs: 200, maxAttempts: 2 });
    const hanging = await startReceiver();
    cleanups.push(() => hanging.close());
    hanging.statusFor = () => 0;
    const stuck = await createWebhook(slipway.rt.db.kysely, slipway.rt.secrets, { programId: pipeline.programId, url: hanging.url, secret: SECRET, events: ['execution.started', 'step.started'] });
    await startExecution(slipway.rt, pipeline, { user: 'ada' });
    // The healthy subscription gets everything up to the approval, whatever the other one does.
    await eventually(async () => kinds(receiver).includes('step.waiting:approval'));
    expect(kinds(receiver)[0]).toBe('execution.started');
    // The hanging one: each POST times out; after two attempts an event is `failed` and the
    // execution's next event goes out (a failed delivery no longer holds up the order).
    await eventually(async () => {
      const list = await listDeliveries(slipway.rt.db.kysely, stuck.id, 100);
      return list.filter((d) => d.status === 'failed').length >= 2 && list;
    }, 30_000);
    const failed = (await listDeliveries(slipway.rt.db.kysely, stuck.id, 100)).filter((d) => d.status === 'failed');
    for (const d of failed) expect(d).toMatchObject({ attempts: 2, error: 'no answer within 200 ms' });
    expect((await listDeliveries(slipway.rt.db.kysely, webhook.id, 100)).every((d) => d.status === 'delivered')).toBe(true);
  });

  it('a rolled-back transaction writes no event; a committed one does', async () => {
    const { slipway, pipeline } = await setUp(backend);
    const base = { programId: pipeline.programId, pipelineId: pipeline.id };
    const execution = await startExecution(slipway.rt, pipeline, { user: 'ada' });
    const before = (await eventsAfter(slipway.rt.db.kysely, pipeline.programId, 0, 1000)).length;
    await expect(transact(slipway.rt, async (_trx, changes) => {
      changes.add({ events: [{ type: 'execution.ended', ...base, executionId: execution.id, status: 'FAILED' }], wake: false });
      throw new Error('rolled back');
    })).rejects.toThrow('rolled back');
    const after = await eventsAfter(slipway.rt.db.kysely, pipeline.programId, 0, 1000);
    expect(after.filter((e) => e.record.kind === 'execution.ended' && e.record.status === 'FAILED')).toEqual([]);
    expect(after.length).toBeGreaterThanOrEqual(before);
  });
});
