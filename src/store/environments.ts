import type { Kysely, Selectable } from 'kysely';
import type { Environment, EnvironmentSettings, EnvironmentStatus, EnvironmentType, TopologyDriverName } from '../domain/model.ts';
import type { Database, EnvironmentTable } from './schema.ts';
import { parseJson, toId } from './json.ts';
import { deleteVariablesOf } from './variables.ts';

type K = Kysely<Database>;

export const toEnvironment = (r: Selectable<EnvironmentTable>): Environment => ({
  id: String(r.id), programId: String(r.program_id), name: r.name, description: r.description,
  type: r.type as EnvironmentType, status: r.status as EnvironmentStatus, region: r.region,
  settings: parseJson<EnvironmentSettings>(r.settings, { publishCount: 2 }),
  createdAt: new Date(Number(r.created_at)), updatedAt: new Date(Number(r.updated_at)),
});

export async function createEnvironment(
  db: K, programId: string,
  e: { name: string; type: EnvironmentType; description?: string; region?: string; publishCount?: number; driver?: TopologyDriverName },
  now = Date.now(),
): Promise<Environment> {
  const settings: EnvironmentSettings = { publishCount: e.publishCount ?? 2, ...(e.driver ? { driver: e.driver } : {}) };
  const row = await db.insertInto('environments').values({
    program_id: toId(programId), name: e.name, description: e.description ?? '', type: e.type,
    status: 'creating', region: e.region ?? 'local', settings: JSON.stringify(settings), created_at: now, updated_at: now,
  }).returningAll().executeTakeFirstOrThrow();
  return toEnvironment(row);
}

/** getEnvironment's query (also read together with others: engine/context.ts). */
export function environmentQuery(db: K, id: string, programId?: string) {
  const q = db.selectFrom('environments').selectAll().where('id', '=', toId(id));
  return programId === undefined ? q : q.where('program_id', '=', toId(programId));
}

export async function getEnvironment(db: K, id: string, programId?: string): Promise<Environment | undefined> {
  const row = await environmentQuery(db, id, programId).executeTakeFirst();
  return row && toEnvironment(row);
}

export async function listEnvironments(db: K, programId?: string, type?: string): Promise<Environment[]> {
  let q = db.selectFrom('environments').selectAll().orderBy('id');
  if (programId !== undefined) q = q.where('program_id', '=', toId(programId));
  if (type) q = q.where('type', '=', type);
  return (await q.execute()).map(toEnvironment);
}

export async function updateEnvironment(
  db: K, id: string, patch: { status?: EnvironmentStatus; settings?: EnvironmentSettings }, now = Date.now(),
): Promise<void> {
  await db.updateTable('environments').set({
    ...(patch.status ? { status: patch.status } : {}),
    ...(patch.settings ? { settings: JSON.stringify(patch.settings) } : {}),
    updated_at: now,
  }).where('id', '=', toId(id)).execute();
}

/** Deletes an environment and its variables; run it in a transaction. */
export async function deleteEnvironment(db: K, id: string): Promise<void> {
  await deleteVariablesOf(db, 'environment', [id]);
  await db.deleteFrom('environments').where('id', '=', toId(id)).execute();
}
