// Executions: start (PUT …/execution, also re-execute with ?stepId= and redeploy an earlier
// release with ?sourceExecutionId=), current, one, and the paged history (newest first).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Execution, ExecutionMode, Pipeline } from '../../domain/model.ts';
import { CommandRefused, redeploy, reExecute, rollback, startExecution } from '../../engine/commands.ts';
import { currentExecutionId, listExecutions } from '../../store/executions.ts';
import { accessFor, authorize } from '../auth.ts';
import { baseUrlOf, type ApiDeps } from '../deps.ts';
import { link, pagedList, paths, rel } from '../hal.ts';
import { executionView, loadExecution, loadPipeline } from '../load.ts';
import { ApiError, badRequest, notFound } from '../problem.ts';
import { idParams, idSchema, pagingQuery } from '../schemas.ts';
import { executionJson } from '../view-execution.ts';

type PlParams = { programId: string; pipelineId: string };
type StartQuery = {
  pipelineExecutionMode?: ExecutionMode; stepId?: string; sourceExecutionId?: string; trigger?: 'MANUAL' | 'PUSH_UPGRADES';
};
const plParams = idParams('programId', 'pipelineId');

export function executionRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { slipway } = deps;
  const db = slipway.rt.db.kysely;
  const base = '/api/program/:programId/pipeline/:pipelineId';

  /** Answers a start as Cloud Manager does: 201, the new execution's Location and its JSON. */
  const started = async (req: FastifyRequest, reply: FastifyReply, pipeline: Pipeline, start: () => Promise<Execution>) => {
    let execution: Execution;
    try {
      execution = await start();
    } catch (e) {
      // Cloud Manager answers 400 when a start conflicts with the pipeline's state.
      if (e instanceof CommandRefused && e.code === 'CONFLICT') throw new ApiError(400, 'Bad Request', e.message, [e.message]);
      throw e;
    }
    const view = await executionView(deps, pipeline, await accessFor(req, deps, pipeline.programId));
    return reply.code(201).header('location', `${baseUrlOf(deps, req)}${paths.execution(pipeline.programId, pipeline.id, execution.id)}`)
      .send(executionJson(execution, view));
  };

  app.put<{ Params: PlParams; Querystring: StartQuery }>(`${base}/execution`, {
    schema: {
      summary: 'Start an execution (201 + Location; 412 when busy); ?stepId= re-executes the production deployment; '
        + '?sourceExecutionId= redeploys the release of an earlier execution whose production deployment finished (a rollback, '
        + 'trigger RE_EXECUTE; offered by its http://ns.slipway.dev/rel/redeploy link); '
        + '?trigger=PUSH_UPGRADES (administrators) runs a push update through the pipeline',
      params: plParams,
      querystring: {
        type: 'object',
        properties: {
          pipelineExecutionMode: { type: 'string', enum: ['NORMAL', 'EMERGENCY'] }, stepId: idSchema,
          sourceExecutionId: { ...idSchema, description: 'an earlier execution whose release to deploy again (Slipway\'s redeploy)' },
          trigger: { type: 'string', enum: ['MANUAL', 'PUSH_UPGRADES'] },
        },
      },
    },
  }, async (req, reply) => {
    const trigger = req.query.trigger ?? 'MANUAL';
    // A push update is an operator's act (Cloud Manager runs them for its customers).
    const user = await authorize(req, deps, req.params.programId, trigger === 'PUSH_UPGRADES' ? 'admin' : 'operate');
    const pipeline = await loadPipeline(deps, req.params.programId, req.params.pipelineId);
    const { stepId, sourceExecutionId } = req.query;
    if (sourceExecutionId && (trigger !== 'MANUAL' || req.query.pipelineExecutionMode === 'EMERGENCY')) {
      throw badRequest('a redeploy (sourceExecutionId) is a normal manual execution: no trigger, no EMERGENCY mode');
    }
    // With both, the step decides (a re-execution), and it must belong to the source execution.
    return started(req, reply, pipeline, () => stepId ? reExecute(slipway.rt, pipeline.id, stepId, user.name, sourceExecutionId)
      : sourceExecutionId ? redeploy(slipway.rt, pipeline.id, sourceExecutionId, user.name)
        : startExecution(slipway.rt, pipeline, { user: user.name, trigger, mode: req.query.pipelineExecutionMode ?? 'NORMAL' }));
  });

  app.put<{ Params: PlParams }>(`${base}/rollbackLastSuccessfulExecution`, {
    schema: {
      params: plParams,
      summary: 'Roll production back: redeploy the release live before the last one that went live (201 + Location, '
        + 'trigger RE_EXECUTE; 400 when there is none; 412 when busy)',
    },
  }, async (req, reply) => {
    const user = await authorize(req, deps, req.params.programId, 'operate');
    const pipeline = await loadPipeline(deps, req.params.programId, req.params.pipelineId);
    return started(req, reply, pipeline, () => rollback(slipway.rt, pipeline.id, user.name));
  });

  app.get<{ Params: PlParams }>(`${base}/execution`, { schema: { params: plParams, summary: 'The running execution (404 when none)' } }, async (req) => {
    await authorize(req, deps, req.params.programId, 'read');
    const pipeline = await loadPipeline(deps, req.params.programId, req.params.pipelineId);
    const id = await currentExecutionId(db, pipeline.id);
    if (!id) throw notFound(`a running execution of pipeline ${pipeline.id}`);
    const execution = await loadExecution(deps, pipeline.programId, pipeline.id, id);
    return executionJson(execution, await executionView(deps, pipeline, await accessFor(req, deps, pipeline.programId)));
  });

  app.get<{ Params: PlParams & { executionId: string } }>(`${base}/execution/:executionId`, {
    schema: { params: idParams('programId', 'pipelineId', 'executionId') },
  }, async (req, reply) => {
    await authorize(req, deps, req.params.programId, 'read');
    reply.type('application/json; charset=utf-8');
    const may = await accessFor(req, deps, req.params.programId);
    // The links differ by what the caller may do, so the cache keeps one view per kind of caller.
    const key = `${req.url.split('?')[0] ?? req.url}|${Number(may.operate)}${Number(may.managed)}`;
    const cached = deps.views.get(key);
    if (cached) return reply.send(cached);
    const generation = deps.views.generation;
    const pipeline = await loadPipeline(deps, req.params.programId, req.params.pipelineId);
    const [execution, view] = await Promise.all([
      loadExecution(deps, pipeline.programId, pipeline.id, req.params.executionId), executionView(deps, pipeline, may),
    ]);
    const body = JSON.stringify(executionJson(execution, view));
    deps.views.set(key, generation, { executionId: execution.id, pipelineId: pipeline.id }, body);
    return reply.send(body);
  });

  app.get<{ Params: PlParams; Querystring: { start: number; limit: number } }>(`${base}/executions`, {
    schema: { params: plParams, querystring: pagingQuery, summary: 'Executions, newest first' },
  }, async (req) => {
    await authorize(req, deps, req.params.programId, 'read');
    const pipeline = await loadPipeline(deps, req.params.programId, req.params.pipelineId);
    const { start, limit } = req.query;
    const [{ total, executions }, view] = await Promise.all([listExecutions(db, pipeline.id, start, limit), executionView(deps, pipeline, await accessFor(req, deps, pipeline.programId))]);
    const self = paths.pipeline(pipeline.programId, pipeline.id);
    return pagedList('executions', executions.map((e) => executionJson(e, view)), `${self}/executions`, { start, limit, total }, {
      [rel('pipeline')]: link(self), [rel('program')]: link(paths.program(pipeline.programId)),
    });
  });
}
