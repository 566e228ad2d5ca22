// Environments: created at once (status `creating`), provisioned by the topology driver in the
// background; deleted only when no execution is running against them (engine/environments.ts).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { TOPOLOGY_DRIVERS, type Environment, type EnvironmentType, type TopologyDriverName } from '../../domain/model.ts';
import { createEnvironment, deleteEnvironment, provisionEnvironment } from '../../engine/environments.ts';
import { listEnvironments } from '../../store/environments.ts';
import { withDeployments } from '../view-topology.ts';
import { authorize } from '../auth.ts';
import { baseUrlOf, type ApiDeps } from '../deps.ts';
import { list, paths } from '../hal.ts';
import { loadEnvironment, loadProgram } from '../load.ts';
import { badRequest, conflict } from '../problem.ts';
import { environmentTypeSchema, idParams, nameSchema } from '../schemas.ts';
import { environmentJson, type EnvironmentSites } from '../view-resources.ts';

type EnvParams = { programId: string; environmentId: string };
interface NewEnvironmentBody {
  name: string; type: EnvironmentType; description?: string; region?: string; publishCount?: number;
  driver?: TopologyDriverName;
}

export function environmentRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { slipway } = deps;
  const db = slipway.rt.db.kysely;
  const base = '/api/program/:programId';
  const logOptions = () => slipway.driver.logs?.options() ?? [];

  /** Provisions in the background; the environment shows `ready` or `failed` when done. */
  function provision(env: Environment): void {
    deps.track(provisionEnvironment(slipway.rt, slipway.driver, env).catch((e: unknown) => {
      app.log.error({ err: e, environment: env.id }, 'provisioning failed');
    }));
  }

  /** The driver a new environment runs on: the one asked for if it works here, else the default. */
  async function driverFor(asked: TopologyDriverName | undefined): Promise<TopologyDriverName | undefined> {
    const choice = slipway.driver.choice;
    if (!choice) return undefined; // a single driver: nothing to choose
    const name = asked ?? await choice.defaultName();
    const problem = await choice.problem(name);
    if (problem) throw badRequest(`the ${name} driver does not work on this machine: ${problem}`, [{ name: 'driver', reason: problem }]);
    return name;
  }

  /** Where a ready environment can be visited; nothing while it is being created or deleted. */
  async function sitesOf(env: Environment, req: FastifyRequest): Promise<EnvironmentSites | undefined> {
    if (env.status !== 'ready') return undefined;
    const entryPoints = await slipway.driver.entryPoints?.(env).catch((e: unknown) => {
      req.log.warn({ err: e, environment: env.id }, 'entry points unknown');
      return {};
    });
    return { ...entryPoints, developerConsole: `${baseUrlOf(deps, req)}${paths.uiEnvironment(env.programId, env.id)}` };
  }
  const view = async (env: Environment, req: FastifyRequest) => environmentJson(env, await sitesOf(env, req), logOptions());

  app.get<{ Params: { programId: string }; Querystring: { type?: EnvironmentType } }>(`${base}/environments`, {
    schema: { params: idParams('programId'), querystring: { type: 'object', properties: { type: environmentTypeSchema } } },
  }, async (req) => {
    const program = await loadProgram(deps, req.params.programId);
    await authorize(req, deps, program.id, 'read');
    const envs = await listEnvironments(db, program.id, req.query.type);
    const items = await Promise.all(envs.map((env) => view(env, req)));
    return list('environments', items, `${paths.program(program.id)}/environments`);
  });

  app.post<{ Params: { programId: string }; Body: NewEnvironmentBody }>(`${base}/environments`, {
    schema: {
      params: idParams('programId'),
      body: {
        type: 'object', required: ['name', 'type'],
        properties: {
          name: nameSchema, type: environmentTypeSchema, description: { type: 'string', maxLength: 1024 },
          region: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,32}$' }, publishCount: { type: 'integer', minimum: 1, maximum: 8 },
          driver: { type: 'string', enum: [...TOPOLOGY_DRIVERS] },
        },
      },
    },
  }, async (req, reply) => {
    const program = await loadProgram(deps, req.params.programId);
    await authorize(req, deps, program.id, 'operate');
    const driver = await driverFor(req.body.driver);
    const env = await createEnvironment(slipway.rt, { ...req.body, programId: program.id, ...(driver ? { driver } : {}) });
    provision(env);
    return reply.code(201).header('location', paths.environment(program.id, env.id)).send(environmentJson(env, undefined, logOptions()));
  });

  app.get<{ Params: EnvParams }>(`${base}/environment/:environmentId`, { schema: { params: idParams('programId', 'environmentId') } }, async (req) => {
    await authorize(req, deps, req.params.programId, 'read');
    return view(await loadEnvironment(deps, req.params.programId, req.params.environmentId), req);
  });

  app.get<{ Params: EnvParams }>(`${base}/environment/:environmentId/topology`, {
    schema: { params: idParams('programId', 'environmentId'), summary: 'The nodes of the environment (driver view); each release names the execution that deployed it (executionId, pipelineId)' },
  }, async (req) => {
    await authorize(req, deps, req.params.programId, 'read');
    const env = await loadEnvironment(deps, req.params.programId, req.params.environmentId);
    if (env.status !== 'ready') throw conflict(`environment ${env.name} is ${env.status}`);
    return withDeployments(db, await slipway.driver.describe(env));
  });

  app.delete<{ Params: EnvParams }>(`${base}/environment/:environmentId`, { schema: { params: idParams('programId', 'environmentId') } }, async (req, reply) => {
    await authorize(req, deps, req.params.programId, 'operate');
    const env = await loadEnvironment(deps, req.params.programId, req.params.environmentId);
    await deleteEnvironment(slipway.rt, slipway.driver, env.id);
    deps.views.clear();
    return reply.code(204).send();
  });
}
