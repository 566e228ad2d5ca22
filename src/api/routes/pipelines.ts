// Pipelines: list/get/create/edit/delete, and the reset of a pipeline's build cache.
import type { FastifyInstance } from 'fastify';
import type { Pipeline, PipelineOptions, PipelineType } from '../../domain/model.ts';
import { clearBuildCache } from '../../runner/build-cache.ts';
import { editFromPhases, targetsProblem, type Phase, type Targets } from '../../domain/targets.ts';
import { tx } from '../../store/db.ts';
import { listEnvironments } from '../../store/environments.ts';
import { currentExecutionId } from '../../store/executions.ts';
import { createPipeline, deletePipeline, listPipelines, updatePipeline } from '../../store/pipelines.ts';
import { getRepository } from '../../store/programs.ts';
import { authorize } from '../auth.ts';
import type { ApiDeps } from '../deps.ts';
import { list, paths } from '../hal.ts';
import { loadPipeline, loadProgram } from '../load.ts';
import { badRequest, conflict } from '../problem.ts';
import {
  branchSchema, environmentsSchema, environmentTypeSchema, idParams, idSchema, nameSchema, pipelineOptionsSchema,
} from '../schemas.ts';
import { pipelineJson, pipelineStateOf } from '../view-pipeline.ts';

type PlParams = { programId: string; pipelineId: string };
interface PatchBody {
  phases?: Phase[]; name?: string; branch?: string; repositoryId?: string; trigger?: Pipeline['trigger'];
  environments?: Targets; options?: Partial<PipelineOptions>;
}
interface CreateBody extends Omit<PatchBody, 'phases'> { name: string; type: PipelineType; repositoryId: string; branch: string }

const triggerSchema = { type: 'string', enum: ['MANUAL', 'ON_COMMIT'] } as const;
const phaseSchema = {
  type: 'object', required: ['type'],
  properties: {
    name: { type: 'string', maxLength: 64 }, type: { type: 'string', enum: ['BUILD', 'DEPLOY'] },
    repositoryId: idSchema, branch: branchSchema, environmentId: idSchema, environmentType: environmentTypeSchema,
  },
} as const;
const editable = {
  name: nameSchema, branch: branchSchema, repositoryId: idSchema, trigger: triggerSchema,
  environments: environmentsSchema, options: pipelineOptionsSchema,
} as const;

export function pipelineRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { slipway } = deps;
  const db = slipway.rt.db.kysely;
  const base = '/api/program/:programId';

  async function envMap(programId: string) {
    return new Map((await listEnvironments(db, programId)).map((e) => [e.id, e]));
  }
  async function render(pipeline: Pipeline) {
    return pipelineJson(pipeline, await pipelineStateOf(deps, pipeline, await envMap(pipeline.programId)));
  }

  /** Repository and environments must exist in the program, with the types they are used as. */
  async function checkTargets(programId: string, type: PipelineType, repositoryId: string, targets: Targets): Promise<void> {
    if (!await getRepository(db, programId, repositoryId)) throw badRequest(`repository ${repositoryId} is not in program ${programId}`);
    const problem = targetsProblem(type, targets, await envMap(programId));
    if (problem) throw badRequest(problem);
  }

  app.get<{ Params: { programId: string } }>(`${base}/pipelines`, { schema: { params: idParams('programId') } }, async (req) => {
    const program = await loadProgram(deps, req.params.programId);
    await authorize(req, deps, program.id, 'read');
    const envs = await envMap(program.id);
    const items = await Promise.all((await listPipelines(db, program.id)).map(async (p) => pipelineJson(p, await pipelineStateOf(deps, p, envs))));
    return list('pipelines', items, `${paths.program(program.id)}/pipelines`);
  });

  app.post<{ Params: { programId: string }; Body: CreateBody }>(`${base}/pipelines`, {
    schema: {
      params: idParams('programId'),
      body: {
        type: 'object', required: ['name', 'type', 'repositoryId', 'branch'],
        properties: { ...editable, type: { type: 'string', enum: ['fullStack', 'codeQuality', 'devDeploy', 'webTier'] } },
      },
    },
  }, async (req, reply) => {
    const program = await loadProgram(deps, req.params.programId);
    await authorize(req, deps, program.id, 'operate');
    const b = req.body;
    const environments = b.environments ?? {};
    await checkTargets(program.id, b.type, b.repositoryId, environments);
    const pipeline = await createPipeline(db, {
      programId: program.id, name: b.name, type: b.type, trigger: b.trigger ?? 'MANUAL', repositoryId: b.repositoryId,
      branch: b.branch, environments, ...(b.options ? { options: b.options } : {}),
    });
    return reply.code(201).header('location', paths.pipeline(program.id, pipeline.id)).send(await render(pipeline));
  });

  app.get<{ Params: PlParams }>(`${base}/pipeline/:pipelineId`, { schema: { params: idParams('programId', 'pipelineId') } }, async (req) => {
    await authorize(req, deps, req.params.programId, 'read');
    return render(await loadPipeline(deps, req.params.programId, req.params.pipelineId));
  });

  app.patch<{ Params: PlParams; Body: PatchBody }>(`${base}/pipeline/:pipelineId`, {
    schema: {
      params: idParams('programId', 'pipelineId'),
      body: { type: 'object', properties: { ...editable, phases: { type: 'array', maxItems: 10, items: phaseSchema } } },
    },
  }, async (req) => {
    await authorize(req, deps, req.params.programId, 'operate');
    const pipeline = await loadPipeline(deps, req.params.programId, req.params.pipelineId);
    const { phases, ...simple } = req.body;
    const folded = phases && editFromPhases(pipeline.environments, phases, await envMap(pipeline.programId));
    if (folded && !folded.ok) throw badRequest(folded.message);
    const patch = { ...simple, ...(folded ? folded.edit : {}) };
    const environments = patch.environments ?? pipeline.environments;
    await checkTargets(pipeline.programId, pipeline.type, patch.repositoryId ?? pipeline.repositoryId, environments);
    const updated = await updatePipeline(db, pipeline.id, { ...patch, environments });
    deps.views.clear();
    return render(updated ?? pipeline);
  });

  app.delete<{ Params: PlParams }>(`${base}/pipeline/:pipelineId`, { schema: { params: idParams('programId', 'pipelineId') } }, async (req, reply) => {
    await authorize(req, deps, req.params.programId, 'operate');
    const pipeline = await loadPipeline(deps, req.params.programId, req.params.pipelineId);
    // The guard and the deletion in one transaction: no execution starts in between.
    await tx(slipway.rt.db, async (trx) => {
      if (await currentExecutionId(trx, pipeline.id)) throw conflict(`pipeline ${pipeline.name} is running`, 412);
      await deletePipeline(trx, pipeline.id);
    });
    await clearBuildCache(slipway.config.dataDir, pipeline.id);
    deps.views.clear();
    return reply.code(204).send();
  });

  // Cloud Manager's invalidateCache resets the pipeline's BUILD cache; the environments (and
  // their dispatcher caches) are left alone.
  app.delete<{ Params: PlParams }>(`${base}/pipeline/:pipelineId/cache`, {
    schema: { params: idParams('programId', 'pipelineId'), summary: "Empty the pipeline's build cache" },
  }, async (req, reply) => {
    await authorize(req, deps, req.params.programId, 'operate');
    const pipeline = await loadPipeline(deps, req.params.programId, req.params.pipelineId);
    await clearBuildCache(slipway.config.dataDir, pipeline.id);
    return reply.code(204).send();
  });
}
