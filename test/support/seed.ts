// Seeds a program with a repository, ready environments and a pipeline, straight into the store.
import type { Slipway } from '../../src/app.ts';
import type { Pipeline, PipelineOptions, PipelineType } from '../../src/domain/model.ts';
import { createEnvironment, updateEnvironment } from '../../src/store/environments.ts';
import { createPipeline } from '../../src/store/pipelines.ts';
import { createProgram, createRepository } from '../../src/store/programs.ts';

export async function seedPipeline(
  slipway: Slipway,
  opts: { type?: PipelineType; options?: Partial<PipelineOptions>; repositoryUrl?: string } = {},
): Promise<Pipeline> {
  const db = slipway.rt.db.kysely;
  const program = await createProgram(db, { name: `Program ${Date.now()}` });
  const repo = await createRepository(db, program.id, { name: 'site', url: opts.repositoryUrl ?? 'file:///nonexistent.git' });
  const stage = await createEnvironment(db, program.id, { name: 'stage', type: 'stage' });
  const prod = await createEnvironment(db, program.id, { name: 'prod', type: 'prod' });
  for (const env of [stage, prod]) await updateEnvironment(db, env.id, { status: 'ready' });
  return createPipeline(db, {
    programId: program.id, name: 'Production', type: opts.type ?? 'fullStack', trigger: 'MANUAL', repositoryId: repo.id,
    branch: 'main', environments: { stage: stage.id, prod: prod.id }, options: opts.options,
  });
}
