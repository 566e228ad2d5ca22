// The event journal (the outbox): one row per published event, written in the transaction of
// the change it reports. Its id is a program's cursor (readers go program by program), so a
// program's ids must become visible in order: on PostgreSQL its writers take that program's
// transaction lock first (a sequence alone hands out ids in start order, and a later id could
// commit before an earlier one, which a reader would skip). One lock per program, not one for
// the whole journal: engines working on different programs never wait for each other here.
// SQLite's writers are serialised already.
import { CompiledQuery, sql, type Kysely } from 'kysely';
import type { EventRecord } from '../domain/cloud-events.ts';
import { paramsInto, type Dialect, type Param } from './db.ts';
import type { Database } from './schema.ts';
import { parseJson, toId } from './json.ts';

type K = Kysely<Database>;
/** The lock class of programs' journal locks (two-key advisory locks, apart from single-key ones). */
const JOURNAL_LOCK = 7274931;

export interface JournalEntry {
  seq: number;
  record: EventRecord;
}

export async function appendEvents(trx: K, dialect: Dialect, records: EventRecord[]): Promise<void> {
  if (records.length === 0) return;
  if (dialect === 'postgres') {
    const parameters: unknown[] = [];
    await trx.executeQuery(CompiledQuery.raw(journalInsert(paramsInto(parameters), records), parameters));
    return;
  }
  await trx.insertInto('events').values(records.map((r) => ({
    event_id: r.eventId, program_id: toId(r.programId), execution_id: toId(r.executionId), kind: r.kind,
    record: JSON.stringify(r), published_at: r.published,
  }))).execute();
}

/**
 * PostgreSQL's journal insert as one statement, for appendEvents or as a part of a larger one
 * (`gate`: a relation joined in, whose emptiness writes nothing). The programs' locks (in one
 * order, so two transactions writing for the same two programs cannot deadlock) are all taken
 * by the aggregate before the join yields its first row, so before any id is drawn from the
 * sequence (in the projection above it).
 */
export function journalInsert(p: Param, records: EventRecord[], gate?: string): string {
  const programs = [...new Set(records.map((r) => Number(r.programId)))].sort((a, b) => a - b);
  const column = <T>(f: (r: EventRecord) => T) => p(records.map(f));
  return `INSERT INTO events (event_id, program_id, execution_id, kind, record, published_at)
    SELECT e.event_id, e.program_id, e.execution_id, e.kind, e.record, e.published_at
    FROM unnest(${column((r) => r.eventId)}::text[], ${column((r) => Number(r.programId))}::bigint[],
      ${column((r) => Number(r.executionId))}::bigint[], ${column((r) => r.kind)}::text[],
      ${column((r) => JSON.stringify(r))}::text[], ${column((r) => r.published)}::bigint[])
      WITH ORDINALITY AS e(event_id, program_id, execution_id, kind, record, published_at, n)
    CROSS JOIN (SELECT count(pg_advisory_xact_lock(${p(JOURNAL_LOCK)}, (p % 2147483647)::int)) AS locks
      FROM unnest(${p(programs)}::bigint[]) AS t(p)) AS locked
    ${gate ? `CROSS JOIN ${gate}` : ''}
    ORDER BY e.n`;
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

/**
 * The newest cursor (0 when the journal is empty); of one program when given: only a program's
 * ids are visible in order, so only its own newest id is a safe head for reading it.
 */
export async function lastEventSeq(db: K, programId?: string): Promise<number> {
  let q = db.selectFrom('events').select(sql<number | null>`max(id)`.as('m'));
  if (programId !== undefined) q = q.where('program_id', '=', toId(programId));
  const row = await q.executeTakeFirst();
  return Number(row?.m ?? 0);
}

/** Each program's newest cursor (lastEventSeq), in one query; a program without events is left out. */
export async function lastEventSeqs(db: K, programIds: string[]): Promise<Map<string, number>> {
  if (programIds.length === 0) return new Map();
  // A max() per program, as lastEventSeq's: each reads one entry of events_by_program, where a
  // GROUP BY would read all of the programs' events.
  const rows = await db.selectFrom('programs as p').select((eb) => ['p.id',
    eb.selectFrom('events as e').select(sql<number | null>`max(e.id)`.as('m')).whereRef('e.program_id', '=', 'p.id').as('m'),
  ]).where('p.id', 'in', programIds.map(toId)).execute();
  return new Map(rows.flatMap((r) => (r.m === null ? [] : [[String(r.id), Number(r.m)] as const])));
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
