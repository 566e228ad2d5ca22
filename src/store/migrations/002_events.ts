// Events and webhooks: the journal (the outbox, written in the transaction of the change it
// reports), webhook subscriptions per program, and one delivery row per event and subscription.
import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../dialect.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations run on an untyped schema
export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const ms = dialect === 'postgres' ? 'bigint' : 'integer';
  const id = dialect === 'postgres' ? 'bigserial' : 'integer';
  const table = (name: string) =>
    db.schema.createTable(name).addColumn('id', id, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()));

  // `id` is the journal's cursor: assigned in commit order (see store/events.ts).
  await table('events')
    .addColumn('event_id', 'text', (c) => c.notNull().unique())
    .addColumn('program_id', ms, (c) => c.notNull())
    .addColumn('execution_id', ms, (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('record', 'text', (c) => c.notNull())
    .addColumn('published_at', ms, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('events_by_program').on('events').columns(['program_id', 'id']).execute();

  await table('webhooks')
    .addColumn('program_id', ms, (c) => c.notNull().references('programs.id').onDelete('cascade'))
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('secret', 'text', (c) => c.notNull())
    .addColumn('events', 'text', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
    // The last journal event already turned into deliveries for this subscription.
    .addColumn('fanned_out_to', ms, (c) => c.notNull())
    .addColumn('created_at', ms, (c) => c.notNull())
    .addColumn('updated_at', ms, (c) => c.notNull())
    .execute();

  await table('webhook_deliveries')
    .addColumn('webhook_id', ms, (c) => c.notNull().references('webhooks.id').onDelete('cascade'))
    .addColumn('event_seq', ms, (c) => c.notNull())
    .addColumn('execution_id', ms, (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', ms, (c) => c.notNull())
    .addColumn('lease_until', ms)
    .addColumn('response_code', 'integer')
    .addColumn('error', 'text')
    .addColumn('last_attempt_at', ms)
    .addColumn('delivered_at', ms)
    .addColumn('created_at', ms, (c) => c.notNull())
    .addUniqueConstraint('webhook_deliveries_once', ['webhook_id', 'event_seq'])
    .execute();
  await sql`CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (next_attempt_at) WHERE status = 'pending'`.execute(db);
  // The order check: is an earlier event of the same execution still pending for this subscription?
  await sql`CREATE INDEX webhook_deliveries_pending_order ON webhook_deliveries (webhook_id, execution_id, event_seq) WHERE status = 'pending'`.execute(db);
  await db.schema.createIndex('webhook_deliveries_by_webhook').on('webhook_deliveries').columns(['webhook_id', 'id']).execute();
}
