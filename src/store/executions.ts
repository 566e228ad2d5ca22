// Executions and their steps. Only engine/ calls the writing functions, inside transactions.
import { sql, type Kysely, type Selectable, type Updateable } from 'kysely';
import type { StepSpec } from '../domain/layout.ts';
import type { LiveRelease } from '../domain/re-execute.ts';
import type {
  EnvironmentType, Execution, ExecutionMode, ExecutionStatus, Metric, PhaseName, PipelineType,
  StepAction, StepDetails, StepState, StepStatus, Trigger,
} from '../domain/model.ts';
import type { Database, ExecutionTable, StepTable } from './schema.ts';
import type { Dialect } from './dialect.ts';
import { parseJson, toDate, toId } from './json.ts';
import { tx, type Db } from './db.ts';

type K = Kysely<Database>;

export const toStep = (r: Selectable<StepTable>): StepState => ({
  id: String(r.id), executionId: String(r.execution_id), index: r.idx, phase: r.phase as PhaseName,
  action: r.action as StepAction,
  ...(r.environment_type ? { environmentType: r.environment_type as EnvironmentType } : {}),
  ...(r.environment_id !== null ? { environmentId: String(r.environment_id) } : {}),
  status: r.status as StepStatus,
  ...(r.reason ? { reason: r.reason } : {}),
  details: parseJson<StepDetails>(r.details, {}),
  metrics: parseJson<Metric[]>(r.metrics, []),
  startedAt: toDate(r.started_at), finishedAt: toDate(r.finished_at), updatedAt: new Date(Number(r.updated_at)),
  wakeAt: toDate(r.wake_at), pauseBeforeRun: Boolean(r.pause_before_run),
  ...(r.lease_owner ? { leaseOwner: r.lease_owner } : {}),
  leaseExpiresAt: toDate(r.lease_expires_at), attempts: r.attempts,
});

const toExecution = (r: Selectable<ExecutionTable>, steps: StepState[]): Execution => ({
  id: String(r.id), programId: String(r.program_id), pipelineId: String(r.pipeline_id),
  pipelineType: r.pipeline_type as PipelineType, status: r.status as ExecutionStatus,
  trigger: r.trigger as Trigger, mode: r.mode as ExecutionMode, user: r.user,
  ...(r.artifacts_version ? { artifactsVersion: r.artifacts_version } : {}),
  ...(r.source_execution_id !== null ? { sourceExecutionId: String(r.source_execution_id) } : {}),
  createdAt: new Date(Number(r.created_at)), updatedAt: new Date(Number(r.updated_at)),
  finishedAt: toDate(r.finished_at), steps,
});

export class PipelineBusyError extends Error {
  constructor(readonly pipelineId: string) {
    super(`pipeline ${pipelineId} already has a running execution`);
    this.name = 'PipelineBusyError';
  }
}

const isUniqueViolation = (e: unknown): boolean => {
  const err = e as { code?: string };
  return err.code === '23505' || err.code === 'SQLITE_CONSTRAINT_UNIQUE';
};

export interface NewExecution {
  programId: string;
  pipelineId: string;
  pipelineType: PipelineType;
  trigger: Trigger;
  mode: ExecutionMode;
  user: string;
  sourceExecutionId?: string;
  steps: StepSpec[];
  environmentIds: Partial<Record<EnvironmentType, string>>;
}

/** Creates a RUNNING execution with its steps, the first one queued. Refuses a busy pipeline. */
export async function insertExecution(db: K, e: NewExecution, now: number): Promise<Execution> {
  let row: Selectable<ExecutionTable>;
  try {
    row = await db.insertInto('executions').values({
      program_id: toId(e.programId), pipeline_id: toId(e.pipelineId), pipeline_type: e.pipelineType,
      status: 'RUNNING', trigger: e.trigger, mode: e.mode, user: e.user, artifacts_version: null,
      source_execution_id: e.sourceExecutionId ? toId(e.sourceExecutionId) : null,
      busy_pipeline_id: toId(e.pipelineId), created_at: now, updated_at: now, finished_at: null,
    }).returningAll().executeTakeFirstOrThrow();
  } catch (error) {
    if (isUniqueViolation(error)) throw new PipelineBusyError(e.pipelineId);
    throw error;
  }
  const steps = await db.insertInto('steps').values(e.steps.map((s, idx) => {
    const envId = s.environmentType ? e.environmentIds[s.environmentType] : undefined;
    return {
      execution_id: row.id, idx, phase: s.phase, action: s.action,
      environment_type: s.environmentType ?? null, environment_id: envId ? toId(envId) : null,
      status: 'NOT_STARTED', reason: null, details: '{}', metrics: '[]', started_at: null, finished_at: null,
      updated_at: now, wake_at: null, pause_before_run: s.pauseBeforeRun ? 1 : 0,
      queued_at: idx === 0 ? now : null, lease_owner: null, lease_expires_at: null, attempts: 0,
    };
  })).returningAll().execute();
  // As inserted: no read back.
  return toExecution(row, steps.sort((a, b) => a.idx - b.idx).map(toStep));
}

const EXECUTION_COLUMNS = [
  'id', 'program_id', 'pipeline_id', 'pipeline_type', 'status', 'trigger', 'mode', 'user', 'artifacts_version',
  'source_execution_id', 'busy_pipeline_id', 'created_at', 'updated_at', 'finished_at',
] as const satisfies readonly (keyof ExecutionTable)[];
/** The execution's columns beside its steps' in one row: `x_<column>`. */
const EXECUTION_SELECT = sql.raw(EXECUTION_COLUMNS.map((c) => `e."${c}" AS "x_${c}"`).join(', '));

/**
 * An execution and its steps in one query (one round trip). With `lock` (PostgreSQL), the
 * execution's row and its steps' rows stay locked for the rest of the transaction, and what
 * is returned is their newest committed state: a change that decides on a step's lease or
 * the execution's status (a completion) cannot interleave with another one (a takeover, a
 * cancel). SQLite's write transactions are serial already.
 */
export async function getExecution(
  db: K, id: string, pipelineId?: string, lock?: Dialect,
): Promise<Execution | undefined> {
  const locked = lock === 'postgres';
  const { rows } = await sql<Record<string, unknown>>`
    SELECT ${EXECUTION_SELECT}, s.* FROM executions e ${locked ? sql`JOIN` : sql`LEFT JOIN`} steps s ON s.execution_id = e.id
    WHERE e.id = ${toId(id)} ${pipelineId !== undefined ? sql`AND e.pipeline_id = ${toId(pipelineId)}` : sql``}
    ORDER BY s.idx ${locked ? sql`FOR NO KEY UPDATE OF e, s` : sql``}`.execute(db);
  const first = rows[0];
  if (!first) return undefined;
  const execution = Object.fromEntries(EXECUTION_COLUMNS.map((c) => [c, first[`x_${c}`]])) as Selectable<ExecutionTable>;
  const steps = rows.filter((r) => r.id !== null).map((r) => toStep(r as Selectable<StepTable>));
  return toExecution(execution, steps);
}

export async function currentExecutionId(db: K, pipelineId: string): Promise<string | undefined> {
  const row = await db.selectFrom('executions').select('id').where('busy_pipeline_id', '=', toId(pipelineId)).executeTakeFirst();
  return row ? String(row.id) : undefined;
}

export async function lastExecutionId(db: K, pipelineId: string): Promise<string | undefined> {
  const row = await db.selectFrom('executions').select('id').where('pipeline_id', '=', toId(pipelineId))
    .orderBy('id', 'desc').limit(1).executeTakeFirst();
  return row ? String(row.id) : undefined;
}

/**
 * The pipeline's releases that went live in production (its production deploy step finished),
 * newest first; push updates excluded, they deploy no build of the pipeline's own. Bounded: a
 * rollback looks back a few releases, not over the whole history.
 */
export async function liveReleases(db: K, pipelineId: string, limit = 200): Promise<LiveRelease[]> {
  const rows = await db.selectFrom('executions as e').innerJoin('steps as s', 's.execution_id', 'e.id')
    .select(['e.id', 'e.source_execution_id'])
    .where('e.pipeline_id', '=', toId(pipelineId)).where('e.trigger', '!=', 'PUSH_UPGRADES')
    .where('s.action', '=', 'deploy').where('s.environment_type', '=', 'prod').where('s.status', '=', 'FINISHED')
    .orderBy('e.id', 'desc').limit(limit).execute();
  return rows.map((r) => ({ executionId: String(r.id), buildId: String(r.source_execution_id ?? r.id) }));
}

/** Newest first. */
export async function listExecutions(
  db: K, pipelineId: string, start: number, limit: number,
): Promise<{ total: number; executions: Execution[] }> {
  const total = await db.selectFrom('executions').select(sql<number>`count(*)`.as('n'))
    .where('pipeline_id', '=', toId(pipelineId)).executeTakeFirstOrThrow();
  const rows = await db.selectFrom('executions').selectAll().where('pipeline_id', '=', toId(pipelineId))
    .orderBy('id', 'desc').offset(start).limit(limit).execute();
  const ids = rows.map((r) => r.id);
  const steps = ids.length
    ? await db.selectFrom('steps').selectAll().where('execution_id', 'in', ids).orderBy('execution_id').orderBy('idx').execute()
    : [];
  return {
    total: Number(total.n),
    executions: rows.map((r) => toExecution(r, steps.filter((s) => s.execution_id === r.id).map(toStep))),
  };
}

export async function getStep(db: K, stepId: string): Promise<StepState | undefined> {
  const row = await db.selectFrom('steps').selectAll().where('id', '=', toId(stepId)).executeTakeFirst();
  return row && toStep(row);
}

export type StepPatch = Updateable<StepTable>;

export async function updateStep(db: K, stepId: string, patch: StepPatch): Promise<void> {
  await db.updateTable('steps').set(patch).where('id', '=', toId(stepId)).execute();
}

export type ExecutionPatch = Updateable<ExecutionTable>;

export async function updateExecution(db: K, id: string, patch: ExecutionPatch): Promise<void> {
  await db.updateTable('executions').set(patch).where('id', '=', toId(id)).execute();
}

/**
 * Claims one runnable step: queued, and either never leased or with an expired lease (its
 * worker died), of a program that holds fewer than `programQuota` live leases (fair sharing;
 * the quota comes from domain/fair-share.ts, the count is made here, in the claim itself).
 * PostgreSQL: one call of slipway_claim (migration 003), which takes the claim lock and skips
 * rows other workers are claiming. SQLite (no RETURNING from joined tables): a pick and an
 * update in a write transaction, which serialises claims already.
 */
export async function claimStep(
  db: Db, worker: string, now: number, leaseMs: number, programQuota: number,
): Promise<{ step: StepState; interrupted: boolean } | undefined> {
  if (db.dialect === 'postgres') {
    const { rows: [row] } = await sql<{ step: Selectable<StepTable>; previous_owner: string | null }>`
      SELECT * FROM slipway_claim(${worker}, ${now}, ${now + leaseMs}, ${programQuota})`.execute(db.kysely);
    // A lease that was held and ran out means the previous attempt was cut off mid-run.
    return row && { step: toStep(row.step), interrupted: row.previous_owner !== null };
  }
  return tx(db, async (trx) => {
    // slipway_claim's query (migration 003), less the lock and the row locking SQLite has no
    // need of: each program's leases counted once per claim (steps_leased), not per candidate.
    const { rows: [candidate] } = await sql<{ id: number; lease_owner: string | null }>`
      WITH held AS (
        SELECT he.program_id, count(*) AS n FROM steps h JOIN executions he ON he.id = h.execution_id
        WHERE h.queued_at IS NOT NULL AND h.lease_owner IS NOT NULL AND h.lease_expires_at >= ${now}
        GROUP BY he.program_id)
      SELECT s.id, s.lease_owner FROM steps s JOIN executions e ON e.id = s.execution_id
      LEFT JOIN held ON held.program_id = e.program_id
      WHERE s.queued_at IS NOT NULL AND (s.lease_expires_at IS NULL OR s.lease_expires_at < ${now})
        AND coalesce(held.n, 0) < ${programQuota}
      ORDER BY s.queued_at LIMIT 1`.execute(trx);
    if (!candidate) return undefined;
    const row = await trx.updateTable('steps')
      .set((eb) => ({ lease_owner: worker, lease_expires_at: now + leaseMs, attempts: eb('attempts', '+', 1) }))
      .where('id', '=', candidate.id).returningAll().executeTakeFirstOrThrow();
    return { step: toStep(row), interrupted: candidate.lease_owner !== null };
  });
}

/** Extends a lease; false when the worker no longer holds it (another took over). */
export async function renewLease(db: K, stepId: string, worker: string, until: number): Promise<boolean> {
  const r = await db.updateTable('steps').set({ lease_expires_at: until })
    .where('id', '=', toId(stepId)).where('lease_owner', '=', worker).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** The step, if `worker` holds its lease; its row locked for the rest of the transaction on PostgreSQL (SQLite's writes are serial already): a worker whose lease lapsed cannot write after another took the step over. */
export async function leasedStep(db: K, dialect: 'sqlite' | 'postgres', stepId: string, worker: string): Promise<StepState | undefined> {
  const query = db.selectFrom('steps').selectAll().where('id', '=', toId(stepId)).where('lease_owner', '=', worker);
  const row = await (dialect === 'postgres' ? query.forUpdate() : query).executeTakeFirst();
  return row && toStep(row);
}

/** Lets go of a worker's leases at once (a graceful stop), so the next engine need not wait them out. */
export async function releaseLeases(db: K, worker: string): Promise<void> {
  await db.updateTable('steps').set({ lease_expires_at: 0 }).where('lease_owner', '=', worker).execute();
}

/** The earliest moment something becomes due: a waiting step's deadline or an expiring lease. */
export async function nextDueAt(db: K): Promise<number | undefined> {
  const { rows } = await sql<{ w: number | null; l: number | null }>`
    SELECT (SELECT min(wake_at) FROM steps WHERE wake_at IS NOT NULL) AS w,
           (SELECT min(lease_expires_at) FROM steps WHERE queued_at IS NOT NULL AND lease_expires_at IS NOT NULL) AS l`.execute(db);
  const times = [rows[0]?.w, rows[0]?.l].filter((t): t is number => t !== null && t !== undefined).map(Number);
  return times.length ? Math.min(...times) : undefined;
}

/** Waiting steps whose deadline has passed. */
export async function dueWaitingSteps(db: K, now: number): Promise<StepState[]> {
  const rows = await db.selectFrom('steps').selectAll().where('wake_at', 'is not', null).where('wake_at', '<=', now).execute();
  return rows.map(toStep);
}


/** Which execution deployed a release here: the one whose deploy step onto the environment started last. */
export interface Deployment {
  version: string;
  executionId: string;
  pipelineId: string;
}

/**
 * For each release version (an execution's artifactsVersion, which its re-executions share), the
 * newest deploy step onto `environmentId` that started rolling it out (it recorded its `rollout`:
 * one paused before it ran changed no node); versions never deployed there are left out.
 */
export async function deploymentsOf(db: K, environmentId: string, versions: string[]): Promise<Deployment[]> {
  if (versions.length === 0) return [];
  const rows = await db.selectFrom('steps as s').innerJoin('executions as e', 'e.id', 's.execution_id')
    .select(['e.id', 'e.pipeline_id', 'e.artifacts_version'])
    .where('s.action', '=', 'deploy').where('s.environment_id', '=', toId(environmentId))
    .where('s.started_at', 'is not', null).where('s.details', 'like', '%"rollout":%').where('e.artifacts_version', 'in', versions)
    .orderBy('s.started_at', 'desc').orderBy('s.id', 'desc').execute();
  const newest = new Map<string, Deployment>();
  for (const r of rows) {
    const version = r.artifacts_version ?? '';
    if (!newest.has(version)) newest.set(version, { version, executionId: String(r.id), pipelineId: String(r.pipeline_id) });
  }
  return [...newest.values()];
}
