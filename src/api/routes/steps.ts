// Step states: read one, advance/cancel it (202), its metrics and its artifacts.
import { extname } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { advanceStep, cancelStep } from '../../engine/commands.ts';
import { listExecutionArtifacts } from '../../store/artifacts.ts';
import { accessFor, authorize } from '../auth.ts';
import type { ApiDeps } from '../deps.ts';
import { link, list, paths } from '../hal.ts';
import { executionView, loadPipeline, loadStep, type StepParams } from '../load.ts';
import { badRequest, notFound } from '../problem.ts';
import { anyBody } from '../schemas.ts';
import { metricsJson, phaseIdOf, stepStateJson } from '../view-execution.ts';
import { artifactIdOf, redirectTo, STEP_PATH, stepParams } from './step-common.ts';

/** A deployment scheduled for a time already past is a mistake, not "now" (the clock is the server's). */
function refusePastSchedule(body: unknown): void {
  const at = (body as { type?: unknown; schedule?: unknown }).type === 'SCHEDULED' ? Date.parse(String((body as { schedule?: unknown }).schedule)) : NaN;
  if (!Number.isNaN(at) && at <= Date.now()) {
    throw badRequest('the schedule is in the past; choose a future time or deploy now', [{ name: 'body.schedule', reason: 'is in the past' }]);
  }
}

export function stepRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { slipway } = deps;
  const db = slipway.rt.db.kysely;

  app.get<{ Params: StepParams }>(STEP_PATH, { schema: { params: stepParams } }, async (req) => {
    await authorize(req, deps, req.params.programId, 'read');
    const pipeline = await loadPipeline(deps, req.params.programId, req.params.pipelineId);
    const { execution, step } = await loadStep(deps, req.params);
    return stepStateJson(execution, step, await executionView(deps, pipeline, await accessFor(req, deps, pipeline.programId)));
  });

  for (const verb of ['advance', 'cancel'] as const) {
    app.put<{ Params: StepParams; Body: unknown }>(`${STEP_PATH}/${verb}`, {
      schema: { params: stepParams, body: anyBody, summary: `${verb} the step (202); the body says how (Cloud Manager bodies)` },
    }, async (req, reply) => {
      const { step } = await loadStep(deps, req.params);
      const permission = verb === 'advance' && step.action === 'managed' ? 'managed' : 'operate';
      const user = await authorize(req, deps, req.params.programId, permission);
      const body = req.body ?? {};
      if (verb === 'advance' && step.action === 'schedule') refusePastSchedule(body);
      if (verb === 'advance') await advanceStep(slipway.rt, step.id, body, user.name);
      else await cancelStep(slipway.rt, step.id, body, user.name);
      return reply.code(202).send();
    });
  }

  app.get<{ Params: StepParams }>(`${STEP_PATH}/metrics`, { schema: { params: stepParams } }, async (req) => {
    await authorize(req, deps, req.params.programId, 'read');
    return metricsJson((await loadStep(deps, req.params)).step);
  });

  app.get<{ Params: StepParams }>(`${STEP_PATH}/artifacts`, { schema: { params: stepParams } }, async (req) => {
    await authorize(req, deps, req.params.programId, 'read');
    const { execution, step } = await loadStep(deps, req.params);
    const self = paths.step(execution.programId, execution.pipelineId, execution.id, phaseIdOf(execution, step), step.id);
    const items = (await listExecutionArtifacts(db, execution.id, step.id)).map((a) => ({
      _links: { self: link(`${self}/artifact/${artifactIdOf(a)}`) },
      id: artifactIdOf(a), stepName: step.action, type: a.type, file: a.name,
      format: extname(a.name).slice(1) || 'bin', size: a.size, digest: a.digest,
    }));
    return list('artifacts', items, `${self}/artifacts`);
  });

  app.get<{ Params: StepParams & { artifactId: string } }>(`${STEP_PATH}/artifact/:artifactId`, {
    schema: {
      params: { ...stepParams, required: [...stepParams.required, 'artifactId'], properties: { ...stepParams.properties, artifactId: { type: 'string', pattern: '^[0-9a-f]{16}$' } } },
      summary: 'A signed, expiring download URL ({redirect} with Accept: application/json, else 307)',
    },
  }, async (req, reply) => {
    await authorize(req, deps, req.params.programId, 'read');
    const { execution, step } = await loadStep(deps, req.params);
    const artifact = (await listExecutionArtifacts(db, execution.id, step.id)).find((a) => artifactIdOf(a) === req.params.artifactId);
    if (!artifact) throw notFound(`artifact ${req.params.artifactId}`);
    return redirectTo(deps, req, reply, deps.signer.sign('artifacts', step.id, req.params.artifactId));
  });
}
