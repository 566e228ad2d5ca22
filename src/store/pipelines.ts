import type { Kysely, Selectable } from 'kysely';
import {
  DEFAULT_PIPELINE_OPTIONS, type EnvironmentType, type Pipeline, type PipelineOptions, type PipelineType,
} from '../domain/model.ts';
import type { Database, PipelineTable } from './schema.ts';
import { parseJson, toId } from './json.ts';
import { deleteVariablesOf } from './variables.ts';

type K = Kysely<Database>;

export const toPipeline = (r: Selectable<PipelineTable>): Pipeline => ({
  id: String(r.id), programId: String(r.program_id), name: r.name, type: r.type as PipelineType,
  trigger: r.trigger as Pipeline['trigger'], repositoryId: String(r.repository_id), branch: r.branch,
  environments: parseJson<Partial<Record<EnvironmentType, string>>>(r.environments, {}),
  options: { ...DEFAULT_PIPELINE_OPTIONS, ...parseJson<Partial<PipelineOptions>>(r.options, {}) },
  createdAt: new Date(Number(r.created_at)), updatedAt: new Date(Number(r.updated_at)),
});

export type NewPipeline = Omit<Pipeline, 'id' | 'createdAt' | 'updatedAt' | 'options'> & { options?: Partial<PipelineOptions> };

export async function createPipeline(db: K, p: NewPipeline, now = Date.now()): Promise<Pipeline> {
  const row = await db.insertInto('pipelines').values({
    program_id: toId(p.programId), name: p.name, type: p.type, trigger: p.trigger,
    repository_id: toId(p.repositoryId), branch: p.branch, environments: JSON.stringify(p.environments),
    options: JSON.stringify({ ...DEFAULT_PIPELINE_OPTIONS, ...p.options }), last_commit: null,
    created_at: now, updated_at: now,
  }).returningAll().executeTakeFirstOrThrow();
  return toPipeline(row);
}

/** getPipeline's query (also read together with others: engine/context.ts). */
export function pipelineQuery(db: K, id: string, programId?: string) {
  const q = db.selectFrom('pipelines').selectAll().where('id', '=', toId(id));
  return programId === undefined ? q : q.where('program_id', '=', toId(programId));
}

export async function getPipeline(db: K, id: string, programId?: string): Promise<Pipeline | undefined> {
  const row = await pipelineQuery(db, id, programId).executeTakeFirst();
  return row && toPipeline(row);
}

export async function listPipelines(db: K, programId?: string): Promise<Pipeline[]> {
  let q = db.selectFrom('pipelines').selectAll().orderBy('id');
  if (programId !== undefined) q = q.where('program_id', '=', toId(programId));
  return (await q.execute()).map(toPipeline);
}

export async function updatePipeline(
  db: K, id: string,
  patch: Partial<Pick<Pipeline, 'name' | 'branch' | 'repositoryId' | 'environments' | 'trigger'>> & { options?: Partial<PipelineOptions> },
  now = Date.now(),
): Promise<Pipeline | undefined> {
  const current = await getPipeline(db, id);
  if (!current) return undefined;
  await db.updateTable('pipelines').set({
    name: patch.name ?? current.name,
    branch: patch.branch ?? current.branch,
    trigger: patch.trigger ?? current.trigger,
    repository_id: toId(patch.repositoryId ?? current.repositoryId),
    environments: JSON.stringify(patch.environments ?? current.environments),
    options: JSON.stringify({ ...current.options, ...patch.options }),
    updated_at: now,
  }).where('id', '=', toId(id)).execute();
  return getPipeline(db, id);
}

/** Deletes a pipeline and its variables; run it in a transaction so neither outlives the other. */
export async function deletePipeline(db: K, id: string): Promise<boolean> {
  await deleteVariablesOf(db, 'pipeline', [id]);
  const r = await db.deleteFrom('pipelines').where('id', '=', toId(id)).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** ON_COMMIT bookkeeping: the last commit a pipeline was started for. */
export async function setLastCommit(db: K, id: string, commit: string): Promise<void> {
  await db.updateTable('pipelines').set({ last_commit: commit }).where('id', '=', toId(id)).execute();
}

export async function getLastCommit(db: K, id: string): Promise<string | undefined> {
  const row = await db.selectFrom('pipelines').select('last_commit').where('id', '=', toId(id)).executeTakeFirst();
  return row?.last_commit ?? undefined;
}
