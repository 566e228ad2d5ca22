// The event journal (the outbox): one row per published event, written in the transaction of
// the change it reports. Its id is the journal's cursor, so ids must become visible in order:
// on PostgreSQL writers take a transaction lock first (a sequence alone hands out ids in
// start order, and a later id could commit before an earlier one, which a reader would skip);
// SQLite's writers are serialised already.
import { sql, type Kysely } from 'kysely';
import type { EventRecord } from '../domain/cloud-events.ts';
import type { Dialect } from './db.ts';
import type { Database } from './schema.ts';
import { parseJson, toId } from './json.ts';

type K = Kysely<Database>;
const JOURNAL_LOCK = 7274930;

export interface JournalEntry {
  seq: number;
  record: EventRecord;
}

export async function appendEvents(trx: K, dialect: Dialect, records: EventRecord[]): Promise<void> {
  if (records.length === 0) return;
  if (dialect === 'postgres') await sql`SELECT pg_advisory_xact_lock(${JOURNAL_LOCK})`.execute(trx);
  await trx.insertInto('events').values(records.map((r) => ({
    event_id: r.eventId, program_id: toId(r.programId), execution_id: toId(r.executionId), kind: r.kind,
    record: JSON.stringify(r), published_at: r.published,
  }))).execute();
}

const toEntry = (r: { id: number; record: string }): JournalEntry => ({ seq: Number(r.id), record: parseJson<EventRecord>(r.record, {} as EventRecord) });

/** A program's events after `after` (a cursor) and up to `upTo`, oldest first. */
export async function eventsAfter(db: K, programId: string, after: number, limit: number, upTo?: number): Promise<JournalEntry[]> {
  let q = db.selectFrom('events').select(['id', 'record']).where('program_id', '=', toId(programId)).where('id', '>', after);
  if (upTo !== undefined) q = q.where('id', '<=', upTo);
  const rows = await q.orderBy('id').limit(limit).execute();
  return rows.map(toEntry);
}

export async function eventsBySeq(db: K, seqs: number[]): Promise<Map<number, EventRecord>> {
  if (seqs.length === 0) return new Map();
  const rows = await db.selectFrom('events').select(['id', 'record']).where('id', 'in', seqs).execute();
  return new Map(rows.map((r) => { const e = toEntry(r); return [e.seq, e.record]; }));
}

/** The newest cursor (0 when the journal is empty). */
export async function lastEventSeq(db: K): Promise<number> {
  const row = await db.selectFrom('events').select(sql<number | null>`max(id)`.as('m')).executeTakeFirst();
  return Number(row?.m ?? 0);
}

/** What an event needs beyond the bus's news: who started, the tenant, each step's phase and environment. */
export interface ExecutionFacts {
  user: string;
  tenantId: string;
  /** Every step's phase, in step order. */
  phases: string[];
  steps: Map<string, { phase: string; environmentType?: string }>;
}

export async function executionFacts(db: K, executionIds: string[]): Promise<Map<string, ExecutionFacts>> {
  const facts = new Map<string, ExecutionFacts>();
  if (executionIds.length === 0) return facts;
  const rows = await db.selectFrom('executions as e')
    .innerJoin('programs as p', 'p.id', 'e.program_id')
    .leftJoin('steps as s', 's.execution_id', 'e.id')
    .select(['e.id as executionId', 'e.user', 'p.tenant_id', 's.id as stepId', 's.phase', 's.environment_type'])
    .where('e.id', 'in', executionIds.map(toId)).orderBy('e.id').orderBy('s.idx').execute();
  for (const r of rows) {
    const key = String(r.executionId);
    let f = facts.get(key);
    if (!f) facts.set(key, f = { user: r.user, tenantId: r.tenant_id, phases: [], steps: new Map() });
    if (r.stepId === null || r.phase === null) continue;
    f.phases.push(r.phase);
    f.steps.set(String(r.stepId), { phase: r.phase, ...(r.environment_type ? { environmentType: r.environment_type } : {}) });
  }
  return facts;
}
