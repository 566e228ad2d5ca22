// Which artifacts an execution holds. Bytes live in the content-addressed blob store; these
// rows only reference digests, so a re-execution points at the same blobs without a copy.
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';
import { toId } from './json.ts';

type K = Kysely<Database>;

export interface ArtifactRecord {
  executionId: string;
  stepId: string;
  digest: string;
  type: string;
  name: string;
  size: number;
}

export async function recordArtifact(db: K, a: ArtifactRecord & { mediaType?: string }, now = Date.now()): Promise<void> {
  await db.insertInto('artifacts')
    .values({ digest: a.digest, size: a.size, media_type: a.mediaType ?? 'application/octet-stream', created_at: now })
    .onConflict((oc) => oc.column('digest').doNothing()).execute();
  await db.insertInto('execution_artifacts').values({
    execution_id: toId(a.executionId), step_id: toId(a.stepId), digest: a.digest, type: a.type, name: a.name, size: a.size,
  }).onConflict((oc) => oc.columns(['execution_id', 'digest', 'name']).doUpdateSet({ type: a.type, step_id: toId(a.stepId) })).execute();
}

export async function listExecutionArtifacts(db: K, executionId: string, stepId?: string): Promise<ArtifactRecord[]> {
  let q = db.selectFrom('execution_artifacts').selectAll().where('execution_id', '=', toId(executionId));
  if (stepId !== undefined) q = q.where('step_id', '=', toId(stepId));
  const rows = await q.orderBy('step_id').orderBy('name').execute();
  return rows.map((r) => ({
    executionId: String(r.execution_id), stepId: String(r.step_id), digest: r.digest, type: r.type, name: r.name, size: Number(r.size),
  }));
}

/** A re-execution's build step: reference the source execution's artifacts (rows only, no bytes). */
export async function copyArtifactReferences(db: K, fromExecutionId: string, toExecutionId: string, stepId: string): Promise<number> {
  const source = await listExecutionArtifacts(db, fromExecutionId);
  for (const a of source) {
    await db.insertInto('execution_artifacts').values({
      execution_id: toId(toExecutionId), step_id: toId(stepId), digest: a.digest, type: a.type, name: a.name, size: a.size,
    }).onConflict((oc) => oc.columns(['execution_id', 'digest', 'name']).doNothing()).execute();
  }
  return source.length;
}

export interface ProgramImage {
  digest: string;
  executionId: string;
  artifactsVersion?: string;
}

/**
 * Images of one program by name (the registry's repositories): rows of `types` named `name` in
 * the program's executions, newest execution first. `digest` or `artifactsVersion` narrows them.
 */
export async function programImages(
  db: K, programId: string, name: string, types: readonly string[],
  only: { digest?: string; artifactsVersion?: string; limit?: number } = {},
): Promise<ProgramImage[]> {
  let q = db.selectFrom('execution_artifacts as a').innerJoin('executions as e', 'e.id', 'a.execution_id')
    .select(['a.digest', 'a.execution_id', 'e.artifacts_version'])
    .where('e.program_id', '=', toId(programId)).where('a.name', '=', name).where('a.type', 'in', [...types]);
  if (only.digest !== undefined) q = q.where('a.digest', '=', only.digest);
  if (only.artifactsVersion !== undefined) q = q.where('e.artifacts_version', '=', only.artifactsVersion);
  const rows = await q.orderBy('a.execution_id', 'desc').limit(only.limit ?? 1000).execute();
  return rows.map((r) => ({
    digest: r.digest, executionId: String(r.execution_id), ...(r.artifacts_version ? { artifactsVersion: r.artifacts_version } : {}),
  }));
}

/** Every distinct image digest of one of the program's repositories (what its blobs may belong to). */
export async function programImageDigests(db: K, programId: string, name: string, types: readonly string[]): Promise<string[]> {
  const rows = await db.selectFrom('execution_artifacts as a').innerJoin('executions as e', 'e.id', 'a.execution_id')
    .select('a.digest').distinct()
    .where('e.program_id', '=', toId(programId)).where('a.name', '=', name).where('a.type', 'in', [...types]).execute();
  return rows.map((r) => r.digest);
}
