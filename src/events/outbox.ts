// The outbox: turns a transaction's news into journal rows inside that same transaction, so
// an event exists exactly when the change it reports committed (none lost, none invented).
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { phaseId, publishes, stepPath, executionPath, type EventRecord } from '../domain/cloud-events.ts';
import type { EnvironmentType } from '../domain/model.ts';
import type { Db } from '../store/db.ts';
import { appendEvents, executionFacts, type ExecutionFacts } from '../store/events.ts';
import type { Database } from '../store/schema.ts';
import type { SlipwayEvent } from './bus.ts';

/**
 * An execution's facts never change once it exists (who started it, the tenant, its steps'
 * phases and environments), so they are read once per execution, not in every transition's
 * transaction. Bounded: the oldest go first; a forgotten one is simply read again.
 */
const knownByDb = new WeakMap<Db, Map<string, ExecutionFacts>>();
const KNOWN_MAX = 2000;

async function factsOf(trx: Kysely<Database>, db: Db, executionIds: string[]): Promise<Map<string, ExecutionFacts>> {
  let known = knownByDb.get(db);
  if (!known) knownByDb.set(db, known = new Map());
  const missing = executionIds.filter((id) => !known.has(id));
  for (const [id, f] of await executionFacts(trx, missing)) {
    known.set(id, f);
    if (known.size > KNOWN_MAX) known.delete(known.keys().next().value!);
  }
  return new Map(executionIds.flatMap((id) => { const f = known.get(id); return f ? [[id, f] as const] : []; }));
}

/** `db`: the database `trx` runs on (the facts read once are kept per database). */
export async function writeOutbox(trx: Kysely<Database>, db: Db, events: readonly SlipwayEvent[]): Promise<void> {
  await appendEvents(trx, db.dialect, await outboxRecords(trx, db, events));
}

/** The journal rows of `events` (those published), for appendEvents or a larger write. */
export async function outboxRecords(trx: Kysely<Database>, db: Db, events: readonly SlipwayEvent[]): Promise<EventRecord[]> {
  const published = events.filter((e) => publishes(e.type, 'action' in e ? e.action : undefined));
  if (published.length === 0) return [];
  const facts = await factsOf(trx, db, [...new Set(published.map((e) => e.executionId))]);
  const records: EventRecord[] = [];
  for (const e of published) {
    const f = facts.get(e.executionId);
    if (!f || !publishes(e.type)) continue; // the execution is gone in this very transaction
    const base = {
      eventId: randomUUID(), kind: e.type, programId: e.programId, pipelineId: e.pipelineId, executionId: e.executionId,
      published: Date.parse(e.at), org: f.tenantId,
    };
    if (e.type === 'execution.started') {
      records.push({ ...base, objectPath: executionPath(e.programId, e.pipelineId, e.executionId), actor: f.user, status: 'RUNNING' });
    } else if (e.type === 'execution.ended') {
      records.push({ ...base, objectPath: executionPath(e.programId, e.pipelineId, e.executionId), status: e.status });
    } else {
      const step = f.steps.get(e.stepId);
      if (!step) continue;
      const ph = phaseId(e.executionId, f.phases, step.phase);
      records.push({
        ...base, stepId: e.stepId, objectPath: stepPath(e.programId, e.pipelineId, e.executionId, ph, e.stepId),
        action: e.action, status: e.status,
        ...(step.environmentType ? { environment: step.environmentType as EnvironmentType } : {}),
      });
    }
  }
  return records;
}
