// A delivery's lane (its subscription and execution) goes on without a pass between two
// deliveries (store/deliveries.ts leaseNextInLane): only with the lane's oldest pending
// delivery, only when it is due and free, and only while the subscription is as it was read.
import { afterEach, describe, expect, it } from 'vitest';
import { leaseNextInLane, listDeliveries, type Delivery } from '../../src/store/deliveries.ts';
import { createWebhook, getWebhook, updateWebhook, type Webhook } from '../../src/store/webhooks.ts';
import { seedPipeline } from '../support/seed.ts';
import { BACKENDS, testStore } from '../support/slipway.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const NOW = 1_000_000;
const LEASE = NOW + 30_000;

describe.each(BACKENDS)('the next delivery of a lane on %s', (backend) => {
  /** A subscription with pending deliveries: execution 1 has events 11, 12, 13; execution 2 has event 21. */
  async function setUp() {
    const store = await testStore(backend);
    const slipway = await store.open({ runEngine: false });
    cleanups.push(() => store.cleanup(), () => slipway.close());
    const { programId } = await seedPipeline(slipway);
    const db = slipway.rt.db.kysely;
    const webhook = await createWebhook(db, slipway.rt.secrets, { programId, url: 'http://127.0.0.1:9/hook', secret: 's', events: ['step.started'] }, NOW);
    const row = (seq: number, executionId: number) => ({
      webhook_id: Number(webhook.id), event_seq: seq, execution_id: executionId, status: 'pending', attempts: 0,
      next_attempt_at: NOW, lease_until: null, response_code: null, error: null, last_attempt_at: null, delivered_at: null, created_at: NOW,
    });
    await db.insertInto('webhook_deliveries').values([row(11, 1), row(12, 1), row(13, 1), row(21, 2)]).execute();
    const bySeq = async (seq: number): Promise<Delivery> => (await listDeliveries(db, webhook.id, 10)).find((d) => d.eventSeq === seq)!;
    const set = (seq: number, patch: { status?: string; next_attempt_at?: number; lease_until?: number | null }) =>
      db.updateTable('webhook_deliveries').set(patch).where('webhook_id', '=', Number(webhook.id)).where('event_seq', '=', seq).execute();
    // Delivery 11 went out and left pending: the lane may go on from it.
    await set(11, { status: 'delivered' });
    const next = (w: Webhook = webhook) => bySeq(11).then((d) => leaseNextInLane(db, d, w, NOW, LEASE));
    return { slipway, webhook, bySeq, set, next };
  }

  it('leases the lane\'s oldest pending delivery, never another execution\'s', async () => {
    const { bySeq, next } = await setUp();
    const d = await next();
    expect(d).toMatchObject({ eventSeq: 12, executionId: '1', attempts: 1, status: 'pending' });
    expect((await bySeq(12)).lastAttemptAt?.getTime()).toBe(NOW);
    // 12 is leased now: the lane waits for it, and 13 is not taken past it.
    expect(await next()).toBeUndefined();
    expect((await bySeq(21)).attempts).toBe(0);
  });

  it('takes nothing when the lane\'s oldest pending delivery waits for a retry, though a later one is due', async () => {
    const { set, next } = await setUp();
    await set(12, { next_attempt_at: NOW + 1000 });
    expect(await next()).toBeUndefined();
  });

  it('takes nothing while another worker holds the next delivery\'s lease; takes it once the lease ran out', async () => {
    const { set, next } = await setUp();
    await set(12, { lease_until: NOW + 1 });
    expect(await next()).toBeUndefined();
    await set(12, { lease_until: NOW - 1 });
    expect((await next())?.eventSeq).toBe(12);
  });

  it('ends with the lane: nothing when its deliveries are all out', async () => {
    const { set, next } = await setUp();
    await set(12, { status: 'delivered' });
    await set(13, { status: 'failed' });
    expect(await next()).toBeUndefined();
  });

  it('takes nothing once the subscription was changed or disabled since it was read', async () => {
    const { slipway, webhook, next } = await setUp();
    const db = slipway.rt.db.kysely;
    await updateWebhook(db, slipway.rt.secrets, webhook, { url: 'http://127.0.0.1:9/elsewhere' }, NOW + 5);
    expect(await next()).toBeUndefined();
    // As read again, it goes on (to the new URL).
    expect((await next((await getWebhook(db, webhook.id))!))?.eventSeq).toBe(12);
    await updateWebhook(db, slipway.rt.secrets, webhook, { enabled: false }, NOW + 6);
    const disabled = (await getWebhook(db, webhook.id))!;
    expect(disabled.enabled).toBe(false);
    expect(await next(disabled)).toBeUndefined();
  });
});
