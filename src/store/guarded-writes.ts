// PostgreSQL: a transition's writes in one statement (one round trip, one commit), applied
// only if the rows they were decided from are still as the engine holds them. It takes the
// same row locks as a locked read (executions.ts getExecution) and compares what a transition
// reads; when anything differs nothing is written and the caller decides again from a fresh
// read. The journal rows of the change go in the same statement (the outbox stays exact).
// PostgreSQL only (a prepared statement: its shapes are few). Its text is written by hand
// (db.ts paramsInto): it is made for every transition.
import { CompiledQuery } from 'kysely';
import type { EventRecord } from '../domain/cloud-events.ts';
import type { ExecutionStatus, StepState } from '../domain/model.ts';
import { paramsInto, runPrepared, type Db, type Param } from './db.ts';
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
function sameStep(p: Param, a: string, s: StepState): string {
  return `${a}.id = ${p(toId(s.id))} AND ${a}.execution_id = e.id AND ${a}.status = ${p(s.status)}
    AND ${a}.lease_owner IS NOT DISTINCT FROM ${p(s.leaseOwner ?? null)}::text
    AND ${a}.details = ${p(JSON.stringify(s.details))} AND ${a}.attempts = ${p(s.attempts)}
    AND ${a}.pause_before_run = ${p(s.pauseBeforeRun ? 1 : 0)}
    AND ${a}.started_at IS NOT DISTINCT FROM ${p(s.startedAt?.getTime() ?? null)}::bigint`;
}

/** `"column" = $n, ...` of a patch (its columns are the table's, named by the code, never by input). */
const assignments = (p: Param, patch: Record<string, unknown>): string =>
  Object.entries(patch).map(([column, value]) => `"${column}" = ${p(value)}`).join(', ');

/**
 * `applied`: the writes were made (committed); false when the state had changed (nothing
 * written). `reads` (queries held by holdReads) are answered in the same statement: `rows`.
 */
export async function writeIfUnchanged(
  db: Db, from: DecidedFrom, writes: GuardedWrites, reads: readonly CompiledQuery[] = [],
): Promise<{ applied: boolean; rows: unknown[][] }> {
  const parameters: unknown[] = [];
  const p = paramsInto(parameters);
  const aliases = from.steps.map((_, i) => `s${i}`);
  const parts = [`guard AS (
    SELECT e.id FROM executions e${aliases.map((a) => `, steps ${a}`).join('')}
    WHERE e.id = ${p(toId(from.executionId))} AND e.status = ${p(from.executionStatus)}
      ${from.steps.map((s, i) => `AND ${sameStep(p, aliases[i]!, s)}`).join(' ')}
    FOR NO KEY UPDATE OF e${aliases.map((a) => `, ${a}`).join('')})`];
  writes.steps.forEach((w, i) => parts.push(`w${i} AS (
    UPDATE steps SET ${assignments(p, w.patch)} FROM guard WHERE steps.id = ${p(toId(w.id))})`));
  if (writes.execution) {
    parts.push(`x AS (UPDATE executions SET ${assignments(p, writes.execution.patch)}
      FROM guard WHERE executions.id = ${p(toId(writes.execution.id))})`);
  }
  if (writes.events.length) parts.push(`j AS (${journalInsert(p, writes.events, 'guard')})`);
  const notify = writes.notify
    ? `, (SELECT count(pg_notify(${p(writes.notify.channel)}, ${p(writes.notify.payload)})) FROM guard) AS notified` : '';
  const columns = jsonColumns(reads, parameters).map((c) => `, ${c}`).join('');
  // The main query reads the guard first, so its row locks are taken before anything else
  // (the journal's program lock among them), in the order of a locked read; the writes
  // above run to completion after it.
  const text = `WITH ${parts.join(', ')}
    SELECT (SELECT count(*) FROM guard)::int AS applied ${notify}${columns}`;
  const [row] = await runPrepared<Record<string, unknown>>(db, CompiledQuery.raw(text, parameters));
  return { applied: Number(row?.applied) > 0, rows: reads.map((_, i) => (row?.[`r${i}`] ?? []) as unknown[]) };
}
