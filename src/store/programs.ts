import type { Kysely, Selectable } from 'kysely';
import type { Program, Repository } from '../domain/model.ts';
import type { Database, ProgramTable, RepositoryTable } from './schema.ts';
import { toId } from './json.ts';
import { deleteVariablesOf } from './variables.ts';

type K = Kysely<Database>;

export const toProgram = (r: Selectable<ProgramTable>): Program => ({
  id: String(r.id), name: r.name, tenantId: r.tenant_id, enabled: Boolean(r.enabled),
  createdAt: new Date(Number(r.created_at)), updatedAt: new Date(Number(r.updated_at)),
});

export const toRepository = (r: Selectable<RepositoryTable>): Repository => ({
  id: String(r.id), programId: String(r.program_id), name: r.name, url: r.url, description: r.description,
});

export async function createProgram(db: K, p: { name: string; tenantId?: string }, now = Date.now()): Promise<Program> {
  const row = await db.insertInto('programs')
    .values({ name: p.name, tenant_id: p.tenantId ?? 'default', enabled: 1, created_at: now, updated_at: now })
    .returningAll().executeTakeFirstOrThrow();
  return toProgram(row);
}

/** getProgram's query (also read together with others: engine/context.ts). */
export const programQuery = (db: K, id: string) => db.selectFrom('programs').selectAll().where('id', '=', toId(id));

export async function getProgram(db: K, id: string): Promise<Program | undefined> {
  const row = await programQuery(db, id).executeTakeFirst();
  return row && toProgram(row);
}

export async function listPrograms(db: K, filter: { ids?: string[]; tenantId?: string } = {}): Promise<Program[]> {
  let q = db.selectFrom('programs').selectAll().orderBy('id');
  if (filter.ids) q = q.where('id', 'in', filter.ids.length ? filter.ids.map(toId) : [-1]);
  if (filter.tenantId) q = q.where('tenant_id', '=', filter.tenantId);
  return (await q.execute()).map(toProgram);
}

/**
 * Deletes a program; its pipelines, environments and repositories go with it (foreign keys),
 * and so do their variables (which have no foreign key: their owner is one of two tables).
 * Run it in a transaction.
 */
export async function deleteProgram(db: K, id: string): Promise<boolean> {
  const pipelines = await db.selectFrom('pipelines').select('id').where('program_id', '=', toId(id)).execute();
  const environments = await db.selectFrom('environments').select('id').where('program_id', '=', toId(id)).execute();
  await deleteVariablesOf(db, 'pipeline', pipelines.map((p) => p.id));
  await deleteVariablesOf(db, 'environment', environments.map((e) => e.id));
  const r = await db.deleteFrom('programs').where('id', '=', toId(id)).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

export async function createRepository(
  db: K, programId: string, r: { name: string; url: string; description?: string }, now = Date.now(),
): Promise<Repository> {
  const row = await db.insertInto('repositories')
    .values({ program_id: toId(programId), name: r.name, url: r.url, description: r.description ?? '', created_at: now })
    .returningAll().executeTakeFirstOrThrow();
  return toRepository(row);
}

export async function getRepository(db: K, programId: string, id: string): Promise<Repository | undefined> {
  const row = await db.selectFrom('repositories').selectAll()
    .where('program_id', '=', toId(programId)).where('id', '=', toId(id)).executeTakeFirst();
  return row && toRepository(row);
}

/** getPipelineRepository's query (also read together with others: engine/context.ts). */
export const pipelineRepositoryQuery = (db: K, programId: string, pipelineId: string) =>
  db.selectFrom('repositories as r').innerJoin('pipelines as p', 'p.repository_id', 'r.id').selectAll('r')
    .where('r.program_id', '=', toId(programId)).where('p.id', '=', toId(pipelineId));

/** The repository a pipeline builds, read by the pipeline's id (no need to read the pipeline first). */
export async function getPipelineRepository(db: K, programId: string, pipelineId: string): Promise<Repository | undefined> {
  const row = await pipelineRepositoryQuery(db, programId, pipelineId).executeTakeFirst();
  return row && toRepository(row);
}

export async function listRepositories(db: K, programId: string): Promise<Repository[]> {
  const rows = await db.selectFrom('repositories').selectAll().where('program_id', '=', toId(programId)).orderBy('id').execute();
  return rows.map(toRepository);
}

export async function deleteRepository(db: K, programId: string, id: string): Promise<boolean> {
  const r = await db.deleteFrom('repositories').where('program_id', '=', toId(programId)).where('id', '=', toId(id)).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}
