// PostgreSQL: a transition's writes in one statement (one round trip, one commit), applied
// only if the rows they were decided from are still as the engine holds them. It takes the
// same row locks as a locked read (executions.ts getExecution) and compares what a transition
// reads; when anything differs nothing is written and the caller decides again from a fresh
// read. The journal rows of the change go in the same statement (the outbox stays exact).
// PostgreSQL only (a prepared statement: its shapes are few).
import { CompiledQuery, sql, type RawBuilder } from 'kysely';
import type { EventRecord } from '../domain/cloud-events.ts';
import type { ExecutionStatus, StepState } from '../domain/model.ts';
import { runPrepared, type Db } from './db.ts';
import { journalInsert } from './events.ts';
import type { ExecutionPatch, StepPatch } from './executions.ts';
import { toId } from './json.ts';
import { jsonColumns } from './read-together.ts';

/** The state a transition was decided from: the execution's status and the steps it read. */
export interface DecidedFrom {
  executionId: string;
  executionStatus: ExecutionStatus;
  steps: StepState[];
}

export interface GuardedWrites {
  steps: { id: string; patch: StepPatch }[];
  execution?: { id: string; patch: ExecutionPatch };
  events: EventRecord[];
  /** A notification sent (at commit) only if the writes are. */
  notify?: { channel: string; payload: string };
}

/** What of a step a transition reads (domain/transitions.ts, claim-decision.ts), as the row holds it. */
function sameStep(alias: string, s: StepState): RawBuilder<unknown> {
  const a = sql.raw(alias);
  return sql`${a}.id = ${toId(s.id)} AND ${a}.execution_id = e.id AND ${a}.status = ${s.status}
    AND ${a}.lease_owner IS NOT DISTINCT FROM ${s.leaseOwner ?? null}::text
    AND ${a}.details = ${JSON.stringify(s.details)} AND ${a}.attempts = ${s.attempts}
    AND ${a}.pause_before_run = ${s.pauseBeforeRun ? 1 : 0}
    AND ${a}.started_at IS NOT DISTINCT FROM ${s.startedAt?.getTime() ?? null}::bigint`;
}

const assignments = (patch: Record<string, unknown>): RawBuilder<unknown> =>
  sql.join(Object.entries(patch).map(([column, value]) => sql`${sql.ref(column)} = ${value}`));

/**
 * `applied`: the writes were made (committed); false when the state had changed (nothing
 * written). `reads` (queries held by holdReads) are answered in the same statement: `rows`.
 */
export async function writeIfUnchanged(
  db: Db, from: DecidedFrom, writes: GuardedWrites, reads: readonly CompiledQuery[] = [],
): Promise<{ applied: boolean; rows: unknown[][] }> {
  const aliases = from.steps.map((_, i) => `s${i}`);
  const parts: RawBuilder<unknown>[] = [sql`guard AS (
    SELECT e.id FROM executions e${sql.raw(aliases.map((a) => `, steps ${a}`).join(''))}
    WHERE e.id = ${toId(from.executionId)} AND e.status = ${from.executionStatus}
      ${sql.join(from.steps.map((s, i) => sql`AND ${sameStep(aliases[i]!, s)}`), sql` `)}
    FOR NO KEY UPDATE OF e${sql.raw(aliases.map((a) => `, ${a}`).join(''))})`];
  writes.steps.forEach((w, i) => parts.push(sql`${sql.raw(`w${i}`)} AS (
    UPDATE steps SET ${assignments(w.patch)} FROM guard WHERE steps.id = ${toId(w.id)})`));
  if (writes.execution) {
    parts.push(sql`x AS (UPDATE executions SET ${assignments(writes.execution.patch)}
      FROM guard WHERE executions.id = ${toId(writes.execution.id)})`);
  }
  if (writes.events.length) parts.push(sql`j AS (${journalInsert(writes.events, sql`guard`)})`);
  const notify = writes.notify
    ? sql`, (SELECT count(pg_notify(${writes.notify.channel}, ${writes.notify.payload})) FROM guard) AS notified` : sql``;
  // The main query reads the guard first, so its row locks are taken before anything else
  // (the journal's program lock among them), in the order of a locked read; the writes
  // above run to completion after it.
  const statement = sql`WITH ${sql.join(parts)}
    SELECT (SELECT count(*) FROM guard)::int AS applied ${notify}`.compile(db.kysely);
  const parameters = [...statement.parameters];
  const columns = jsonColumns(reads, parameters).map((c) => `, ${c}`).join('');
  const [row] = await runPrepared<Record<string, unknown>>(db, CompiledQuery.raw(statement.sql + columns, parameters));
  return { applied: Number(row?.applied) > 0, rows: reads.map((_, i) => (row?.[`r${i}`] ?? []) as unknown[]) };
}
