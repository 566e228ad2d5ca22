// Webhook deliveries: one row per (subscription, event), created by fanning the journal out,
// claimed with a lease (a delivery whose worker died is retried once the lease runs out), and
// kept as the subscription's visible history.
import { sql, type Kysely, type Selectable } from 'kysely';
import { isEventKind } from '../domain/cloud-events.ts';
import type { Database, WebhookDeliveryTable } from './schema.ts';
import { eventsAfter } from './events.ts';
import { toDate, toId } from './json.ts';
import type { Webhook } from './webhooks.ts';

type K = Kysely<Database>;

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface Delivery {
  id: string;
  webhookId: string;
  eventSeq: number;
  executionId: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: Date;
  responseCode?: number;
  error?: string;
  lastAttemptAt?: Date;
  deliveredAt?: Date;
  createdAt: Date;
}

const toDelivery = (r: Selectable<WebhookDeliveryTable>): Delivery => ({
  id: String(r.id), webhookId: String(r.webhook_id), eventSeq: Number(r.event_seq), executionId: String(r.execution_id),
  status: r.status as DeliveryStatus, attempts: r.attempts, nextAttemptAt: new Date(Number(r.next_attempt_at)),
  ...(r.response_code !== null ? { responseCode: r.response_code } : {}),
  ...(r.error !== null ? { error: r.error } : {}),
  lastAttemptAt: toDate(r.last_attempt_at), deliveredAt: toDate(r.delivered_at), createdAt: new Date(Number(r.created_at)),
});

/**
 * Turns the journal's events up to `head` (its newest id, read before) into pending deliveries
 * for one subscription; returns the subscription's new cursor. Journal ids become visible in
 * order (see events.ts), so nothing at or below `head` can still appear. The cursor only moves
 * from where this caller read it, and a delivery exists at most once per event: two workers
 * fanning out at once are harmless. It needs no transaction: the cursor moves after the
 * deliveries exist, and a fan-out cut off between the two is simply made again (no row twice).
 */
export async function fanOut(db: K, webhook: Webhook, head: number, now: number, batch = 500): Promise<number> {
  const entries = await eventsAfter(db, webhook.programId, webhook.fannedOutTo, batch, head);
  const wanted = entries.filter((e) => isEventKind(e.record.kind) && webhook.events.includes(e.record.kind));
  if (wanted.length) {
    await db.insertInto('webhook_deliveries').values(wanted.map((e) => ({
      webhook_id: toId(webhook.id), event_seq: e.seq, execution_id: toId(e.record.executionId), status: 'pending',
      attempts: 0, next_attempt_at: now, lease_until: null, response_code: null, error: null,
      last_attempt_at: null, delivered_at: null, created_at: now,
    }))).onConflict((oc) => oc.columns(['webhook_id', 'event_seq']).doNothing()).execute();
  }
  const cursor = entries.length < batch ? head : entries[entries.length - 1]!.seq;
  await db.updateTable('webhooks').set({ fanned_out_to: cursor })
    .where('id', '=', toId(webhook.id)).where('fanned_out_to', '=', webhook.fannedOutTo).execute();
  return cursor;
}

/**
 * Pending deliveries that are due, oldest first, of enabled subscriptions: per subscription
 * and execution only the oldest pending one (an execution's events arrive in order while an
 * earlier one is retried), and at most `perSubscription` per subscription, so one
 * subscription's backlog never crowds the others out of the batch.
 */
export async function dueDeliveries(db: K, now: number, limit: number, perSubscription: number): Promise<Delivery[]> {
  const candidates = db.selectFrom('webhook_deliveries as d').innerJoin('webhooks as w', 'w.id', 'd.webhook_id')
    .selectAll('d').select(sql<number>`row_number() OVER (PARTITION BY d.webhook_id ORDER BY d.event_seq)`.as('rank'))
    .where('w.enabled', '=', 1)
    .where('d.status', '=', 'pending').where('d.next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('d.lease_until', 'is', null), eb('d.lease_until', '<', now)]))
    .where(({ not, exists, selectFrom }) => not(exists(
      selectFrom('webhook_deliveries as e').select(sql`1`.as('one'))
        .whereRef('e.webhook_id', '=', 'd.webhook_id').whereRef('e.execution_id', '=', 'd.execution_id')
        .where('e.status', '=', 'pending').whereRef('e.event_seq', '<', 'd.event_seq'),
    )));
  const rows = await db.selectFrom(candidates.as('c')).selectAll('c')
    .where('c.rank', '<=', perSubscription).orderBy('c.event_seq').limit(limit).execute();
  return rows.map(toDelivery);
}

/** Takes a delivery for one attempt; false when another worker has it. */
export async function leaseDelivery(db: K, id: string, now: number, until: number): Promise<boolean> {
  const r = await db.updateTable('webhook_deliveries')
    .set((eb) => ({ lease_until: until, attempts: eb('attempts', '+', 1), last_attempt_at: now }))
    .where('id', '=', toId(id)).where('status', '=', 'pending')
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/**
 * Once a delivery has left `pending`, its lane (subscription and execution) may go on: leases
 * the lane's oldest pending delivery if it is due and free, and only while the subscription is
 * as `webhook` was read (enabled, not updated since: its URL, secret and events still hold).
 */
export async function leaseNextInLane(db: K, d: Delivery, webhook: Webhook, now: number, until: number): Promise<Delivery | undefined> {
  const oldest = db.selectFrom('webhook_deliveries as n').innerJoin('webhooks as w', 'w.id', 'n.webhook_id').select('n.id')
    .where('n.webhook_id', '=', toId(d.webhookId)).where('n.execution_id', '=', toId(d.executionId)).where('n.status', '=', 'pending')
    .where('w.enabled', '=', 1).where('w.updated_at', '=', webhook.updatedAt.getTime())
    .orderBy('n.event_seq').limit(1);
  const row = await db.updateTable('webhook_deliveries')
    .set((eb) => ({ lease_until: until, attempts: eb('attempts', '+', 1), last_attempt_at: now }))
    .where('id', '=', oldest).where('next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
    .returningAll().executeTakeFirst();
  return row && toDelivery(row);
}

export interface AttemptResult {
  status: DeliveryStatus;
  responseCode: number | null;
  error: string | null;
  nextAttemptAt: number;
  deliveredAt: number | null;
}

export async function recordAttempt(db: K, id: string, result: AttemptResult): Promise<void> {
  await db.updateTable('webhook_deliveries').set({
    status: result.status, response_code: result.responseCode, error: result.error,
    next_attempt_at: result.nextAttemptAt, delivered_at: result.deliveredAt, lease_until: null,
  }).where('id', '=', toId(id)).execute();
}

/** The earliest moment a pending delivery becomes due (a retry or an expiring lease). */
export async function nextDeliveryAt(db: K): Promise<number | undefined> {
  const row = await db.selectFrom('webhook_deliveries')
    .select(sql<number | null>`min(CASE WHEN lease_until IS NOT NULL AND lease_until > next_attempt_at THEN lease_until ELSE next_attempt_at END)`.as('t'))
    .where('status', '=', 'pending').executeTakeFirst();
  return row?.t === null || row?.t === undefined ? undefined : Number(row.t);
}

/** A subscription's recent deliveries, newest first. */
export async function listDeliveries(db: K, webhookId: string, limit: number): Promise<Delivery[]> {
  const rows = await db.selectFrom('webhook_deliveries').selectAll().where('webhook_id', '=', toId(webhookId))
    .orderBy('id', 'desc').limit(limit).execute();
  return rows.map(toDelivery);
}

export async function getDelivery(db: K, id: string, webhookId: string): Promise<Delivery | undefined> {
  const row = await db.selectFrom('webhook_deliveries').selectAll()
    .where('id', '=', toId(id)).where('webhook_id', '=', toId(webhookId)).executeTakeFirst();
  return row && toDelivery(row);
}

/** Sends a delivery again from its first attempt (a person asked; the event itself is unchanged). */
export async function redeliver(db: K, id: string, now: number): Promise<void> {
  await db.updateTable('webhook_deliveries').set({
    status: 'pending', attempts: 0, next_attempt_at: now, lease_until: null, error: null, delivered_at: null,
  }).where('id', '=', toId(id)).execute();
}
