// The outbox: turns a transaction's news into journal rows inside that same transaction, so
// an event exists exactly when the change it reports committed (none lost, none invented).
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { phaseId, publishes, stepPath, executionPath, type EventRecord } from '../domain/cloud-events.ts';
import type { EnvironmentType } from '../domain/model.ts';
import type { Dialect } from '../store/db.ts';
import { appendEvents, executionFacts } from '../store/events.ts';
import type { Database } from '../store/schema.ts';
import type { SlipwayEvent } from './bus.ts';

export async function writeOutbox(trx: Kysely<Database>, dialect: Dialect, events: readonly SlipwayEvent[]): Promise<void> {
  const published = events.filter((e) => publishes(e.type, 'action' in e ? e.action : undefined));
  if (published.length === 0) return;
  const facts = await executionFacts(trx, [...new Set(published.map((e) => e.executionId))]);
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
  await appendEvents(trx, dialect, records);
}
