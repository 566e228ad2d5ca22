// Programs, tenants, members and whoami.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Program } from '../../domain/model.ts';
import { tx } from '../../store/db.ts';
import { listEnvironments } from '../../store/environments.ts';
import { currentExecutionId } from '../../store/executions.ts';
import { listPipelines } from '../../store/pipelines.ts';
import { createProgram, deleteProgram, listPrograms } from '../../store/programs.ts';
import {
  addToken, ensureUser, grantRole, membersOf, newToken, programIdsOf, revokeRoles, rolesOf, ROLES, setRoles, userByName, type Role,
} from '../../store/users.ts';
import { authorize, currentUser, forgetRoles, requireAdmin } from '../auth.ts';
import type { ApiDeps } from '../deps.ts';
import { list, paths } from '../hal.ts';
import { loadProgram } from '../load.ts';
import { badRequest, conflict, notFound } from '../problem.ts';
import { idParams, nameSchema } from '../schemas.ts';
import { programJson, tenantJson } from '../view-resources.ts';

const memberName = { type: 'string', pattern: '^[A-Za-z0-9_.@+-]{1,100}$' } as const;

const tenantParams = {
  type: 'object', required: ['tenantId'], properties: { tenantId: { type: 'string', pattern: '^[A-Za-z0-9_.@-]{1,64}$' } },
} as const;

export function programRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const db = deps.slipway.rt.db.kysely;

  async function visiblePrograms(req: FastifyRequest, tenantId?: string): Promise<Program[]> {
    const user = currentUser(req);
    const filter = tenantId ? { tenantId } : {};
    return user.admin ? listPrograms(db, filter) : listPrograms(db, { ...filter, ids: await programIdsOf(db, user.id) });
  }

  app.get('/api/programs', { schema: { summary: 'Programs the user is a member of (all for admins)' } }, async (req) =>
    list('programs', (await visiblePrograms(req)).map((p) => programJson(p, true)), '/api/programs'));

  app.get('/api/tenants', { schema: { summary: 'Tenants of the visible programs' } }, async (req) => {
    const tenants = [...new Set((await visiblePrograms(req)).map((p) => p.tenantId))];
    return list('tenants', tenants.map(tenantJson), '/api/tenants');
  });

  app.get<{ Params: { tenantId: string } }>('/api/tenant/:tenantId', { schema: { params: tenantParams } }, async (req) => {
    if ((await visiblePrograms(req, req.params.tenantId)).length === 0) throw notFound(`tenant ${req.params.tenantId}`);
    return tenantJson(req.params.tenantId);
  });

  app.get<{ Params: { tenantId: string } }>('/api/tenant/:tenantId/programs', { schema: { params: tenantParams } }, async (req) => {
    const programs = await visiblePrograms(req, req.params.tenantId);
    return list('programs', programs.map((p) => programJson(p, true)), `/api/tenant/${req.params.tenantId}/programs`);
  });

  app.get<{ Params: { programId: string } }>('/api/program/:programId', { schema: { params: idParams('programId') } }, async (req) => {
    const program = await loadProgram(deps, req.params.programId);
    await authorize(req, deps, program.id, 'read');
    return programJson(program);
  });

  app.post<{ Body: { name: string; tenantId?: string } }>('/api/programs', {
    schema: {
      summary: 'Create a program (admin)',
      body: { type: 'object', required: ['name'], properties: { name: nameSchema, tenantId: tenantParams.properties.tenantId } },
    },
  }, async (req, reply) => {
    requireAdmin(req);
    const program = await createProgram(db, req.body);
    return reply.code(201).send(programJson(program));
  });

  app.delete<{ Params: { programId: string } }>('/api/program/:programId', { schema: { params: idParams('programId') } }, async (req, reply) => {
    const program = await loadProgram(deps, req.params.programId);
    await authorize(req, deps, program.id, 'admin');
    for (const p of await listPipelines(db, program.id)) {
      if (await currentExecutionId(db, p.id)) throw conflict(`pipeline ${p.name} is running`, 412);
    }
    for (const env of await listEnvironments(db, program.id)) await deps.slipway.driver.destroy(env).catch(() => undefined);
    await tx(deps.slipway.rt.db, (trx) => deleteProgram(trx, program.id));
    deps.views.clear();
    return reply.code(204).send();
  });

  app.get<{ Params: { programId: string } }>('/api/program/:programId/members', {
    schema: { summary: 'Members of the program and their roles', params: idParams('programId') },
  }, async (req) => {
    const program = await loadProgram(deps, req.params.programId);
    await authorize(req, deps, program.id, 'read');
    return list('members', await membersOf(db, program.id), `${paths.program(program.id)}/members`);
  });

  app.post<{ Params: { programId: string }; Body: { user: string; role: Role } }>('/api/program/:programId/members', {
    schema: {
      summary: 'Add a member with a role (admin); returns a new API token for the user',
      params: idParams('programId'),
      body: {
        type: 'object', required: ['user', 'role'],
        properties: { user: memberName, role: { type: 'string', enum: [...ROLES] } },
      },
    },
  }, async (req, reply) => {
    const program = await loadProgram(deps, req.params.programId);
    await authorize(req, deps, program.id, 'admin');
    // A role is for an ordinary user: an administrator's token must never come out of a grant.
    if ((await userByName(db, req.body.user))?.admin) {
      throw badRequest(`user ${req.body.user} is an administrator; roles are granted to other users`, [{ name: 'body.user', reason: 'is an administrator' }]);
    }
    const user = await ensureUser(db, req.body.user);
    await grantRole(db, program.id, user.id, req.body.role);
    forgetRoles(deps);
    const token = newToken();
    await addToken(db, user.id, token, `member of program ${program.id}`);
    return reply.code(201).send({ user: user.name, role: req.body.role, programId: program.id, token });
  });

  const memberParams = { ...idParams('programId'), required: ['programId', 'user'], properties: { ...idParams('programId').properties, user: memberName } };

  // A change of role in one step (not a revoke and a grant, between which the member has none).
  app.put<{ Params: { programId: string; user: string }; Body: { roles: Role[] } }>('/api/program/:programId/members/:user', {
    schema: {
      summary: 'Set a member\'s roles on the program (admin); the member keeps its tokens',
      params: memberParams,
      body: {
        type: 'object', required: ['roles'], additionalProperties: false,
        properties: { roles: { type: 'array', minItems: 1, maxItems: ROLES.length, uniqueItems: true, items: { type: 'string', enum: [...ROLES] } } },
      },
    },
  }, async (req) => {
    const program = await loadProgram(deps, req.params.programId);
    await authorize(req, deps, program.id, 'admin');
    const roles = await tx(deps.slipway.rt.db, async (trx) => {
      const user = await userByName(trx, req.params.user);
      if (!user || (await rolesOf(trx, program.id, user.id)).length === 0) throw notFound(`member ${req.params.user} of program ${program.id}`);
      await setRoles(trx, program.id, user.id, req.body.roles);
      return rolesOf(trx, program.id, user.id);
    });
    forgetRoles(deps);
    return { user: req.params.user, roles, programId: program.id };
  });

  app.delete<{ Params: { programId: string; user: string }; Querystring: { role?: Role } }>('/api/program/:programId/members/:user', {
    schema: {
      summary: 'Revoke a member\'s roles on the program (admin): all, or the one in ?role=',
      params: memberParams,
      querystring: { type: 'object', properties: { role: { type: 'string', enum: [...ROLES] } } },
    },
  }, async (req, reply) => {
    const program = await loadProgram(deps, req.params.programId);
    await authorize(req, deps, program.id, 'admin');
    const user = await userByName(db, req.params.user);
    const revoked = user ? await revokeRoles(db, program.id, user.id, req.query.role) : 0;
    if (revoked === 0) throw notFound(`member ${req.params.user}${req.query.role ? ` with role ${req.query.role}` : ''} of program ${program.id}`);
    forgetRoles(deps);
    return reply.code(204).send();
  });

  app.get('/api/whoami', { schema: { summary: 'The authenticated user and its roles' } }, async (req) => {
    const user = currentUser(req);
    const ids = await programIdsOf(db, user.id);
    const programs = await Promise.all(ids.map(async (id) => ({ programId: id, roles: await rolesOf(db, id, user.id) })));
    return { name: user.name, admin: user.admin, programs };
  });
}
