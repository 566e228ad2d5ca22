// Environment and pipeline variables: GET lists them (secret values never returned), PATCH
// takes only the changes (an empty value deletes) and answers 204.
import type { FastifyInstance } from 'fastify';
import type { Variable } from '../../domain/model.ts';
import { listVariables, patchVariables, type VariableOwner } from '../../store/variables.ts';
import { authorize } from '../auth.ts';
import type { ApiDeps } from '../deps.ts';
import { link, paths, rel } from '../hal.ts';
import { loadEnvironment, loadPipeline } from '../load.ts';
import { badRequest } from '../problem.ts';
import { idParams } from '../schemas.ts';
import { variablesJson } from '../view-resources.ts';

const MAX_VARIABLES = 200;
const SECRET_MAX = 500;
/** Shorter secrets are refused: masking them would also mask pieces of ordinary words. */
export const SECRET_MIN = 6;

const variableArray = (services: string[]) => ({
  type: 'array',
  maxItems: MAX_VARIABLES,
  items: {
    type: 'object',
    required: ['name'],
    properties: {
      name: { type: 'string', minLength: 2, maxLength: 100, pattern: '^[a-zA-Z_][a-zA-Z_0-9]*$' },
      value: { type: 'string', maxLength: 2048, default: '' },
      // Cloud Manager's default: a variable sent without a type is a plain string.
      type: { type: 'string', enum: ['string', 'secretString'], default: 'string' },
      service: { type: 'string', enum: services },
    },
  },
});

/** Checks a PATCH against what exists (pure): secret length, type changes, the per-owner limit. */
export function checkVariablePatch(existing: Variable[], changes: Variable[]): string | undefined {
  const key = (v: Variable) => `${v.name}\u0000${v.service ?? ''}`;
  const current = new Map(existing.map((v) => [key(v), v]));
  for (const v of changes) {
    if (v.type === 'secretString' && v.value.length > SECRET_MAX) return `secret ${v.name} is longer than ${SECRET_MAX} characters`;
    if (v.type === 'secretString' && v.value !== '' && v.value.length < SECRET_MIN) {
      return `secret ${v.name} is shorter than ${SECRET_MIN} characters (too short to be masked in logs)`;
    }
    const old = current.get(key(v));
    if (old && v.value !== '' && old.type !== v.type) return `variable ${v.name} is a ${old.type}; delete it before setting it as ${v.type}`;
    if (v.value === '') current.delete(key(v));
    else current.set(key(v), v);
  }
  if (current.size > MAX_VARIABLES) return `at most ${MAX_VARIABLES} variables`;
  return undefined;
}

export function variableRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const db = deps.slipway.rt.db.kysely;
  const box = deps.slipway.rt.secrets;

  async function patch(owner: VariableOwner, ownerId: string, body: Variable[]): Promise<void> {
    const changes = body.map((v) => ({ name: v.name, value: v.value ?? '', type: v.type, ...(v.service ? { service: v.service } : {}) }));
    const problem = checkVariablePatch(await listVariables(db, box, owner, ownerId), changes);
    if (problem) throw badRequest(problem);
    await patchVariables(db, box, owner, ownerId, changes);
  }

  type EnvParams = { programId: string; environmentId: string };
  const envPath = '/api/program/:programId/environment/:environmentId/variables';
  const envParams = idParams('programId', 'environmentId');
  app.get<{ Params: EnvParams }>(envPath, { schema: { params: envParams } }, async (req) => {
    await authorize(req, deps, req.params.programId, 'read');
    const env = await loadEnvironment(deps, req.params.programId, req.params.environmentId);
    const self = paths.environment(env.programId, env.id);
    return variablesJson(await listVariables(db, box, 'environment', env.id), `${self}/variables`, {
      [rel('environment')]: link(self), [rel('program')]: link(paths.program(env.programId)),
    });
  });
  app.patch<{ Params: EnvParams; Body: Variable[] }>(envPath, {
    schema: { params: envParams, body: variableArray(['author', 'publish', 'preview']) },
  }, async (req, reply) => {
    await authorize(req, deps, req.params.programId, 'operate');
    const env = await loadEnvironment(deps, req.params.programId, req.params.environmentId);
    await patch('environment', env.id, req.body);
    return reply.code(204).send();
  });

  type PlParams = { programId: string; pipelineId: string };
  const plPath = '/api/program/:programId/pipeline/:pipelineId/variables';
  const plParams = idParams('programId', 'pipelineId');
  app.get<{ Params: PlParams }>(plPath, { schema: { params: plParams } }, async (req) => {
    await authorize(req, deps, req.params.programId, 'read');
    const pipeline = await loadPipeline(deps, req.params.programId, req.params.pipelineId);
    const self = paths.pipeline(pipeline.programId, pipeline.id);
    return variablesJson(await listVariables(db, box, 'pipeline', pipeline.id), `${self}/variables`, {
      [rel('pipeline')]: link(self), [rel('program')]: link(paths.program(pipeline.programId)),
    });
  });
  app.patch<{ Params: PlParams; Body: Variable[] }>(plPath, {
    schema: { params: plParams, body: variableArray(['build', 'functionalTest', 'uiTest', 'loadTest']) },
  }, async (req, reply) => {
    await authorize(req, deps, req.params.programId, 'operate');
    const pipeline = await loadPipeline(deps, req.params.programId, req.params.pipelineId);
    await patch('pipeline', pipeline.id, req.body);
    return reply.code(204).send();
  });
}
