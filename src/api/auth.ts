// Bearer-token authentication and per-program roles. Tokens are looked up by their hash.
// Admins may do everything; others need a role on the program: BUSINESS_OWNER,
// DEPLOYMENT_MANAGER and PROGRAM_MANAGER operate (start, advance, cancel, edit), DEVELOPER
// reads (and gets logs), SUPPORT reads and may advance the `managed` step.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { rolesOf, userByToken, type Role, type User } from '../store/users.ts';
import type { ApiDeps } from './deps.ts';
import type { Access } from './view-execution.ts';
import { ApiError, forbidden, sendProblem } from './problem.ts';

declare module 'fastify' {
  interface FastifyRequest {
    slipwayUser: User | null;
  }
}

export type Permission = 'read' | 'operate' | 'managed' | 'admin';

const OPERATORS: readonly Role[] = ['BUSINESS_OWNER', 'DEPLOYMENT_MANAGER', 'PROGRAM_MANAGER'];

/** Whether `roles` grant `permission` (pure). */
export function allows(roles: readonly Role[], permission: Permission): boolean {
  switch (permission) {
    case 'read': return roles.length > 0;
    case 'operate': return roles.some((r) => OPERATORS.includes(r));
    case 'managed': return roles.some((r) => OPERATORS.includes(r) || r === 'SUPPORT');
    case 'admin': return false;
  }
}

// The UI's files are static and public; every API call they make carries the token.
// The registry (/v2/) authenticates in its own way (Basic too, pull tokens): routes/registry.ts.
const PUBLIC = [/^\/api\/health(\?|$)/, /^\/logs\//, /^\/environment-logs(-gz)?\//, /^\/artifacts\//, /^\/ui(\/|\?|$)/, /^\/v2(\/|\?|$)/];

/** A short-lived cache: every API call needs the user and its roles; a change shows within TTL. */
class TtlCache<V> {
  private readonly map = new Map<string, { value: V; until: number }>();
  constructor(private readonly ttlMs: number, private readonly max = 2000) {}
  async get(key: string, load: () => Promise<V>): Promise<V> {
    const hit = this.map.get(key);
    const now = Date.now();
    if (hit && hit.until > now) return hit.value;
    const value = await load();
    if (this.map.size >= this.max) this.map.clear();
    this.map.set(key, { value, until: now + this.ttlMs });
    return value;
  }
  clear(): void {
    this.map.clear();
  }
}

const roles = new WeakMap<ApiDeps, TtlCache<Role[]>>();
const users = new WeakMap<ApiDeps, TtlCache<User | undefined>>();

/** The bearer token a request carries, if it carries one. */
export function bearerToken(req: FastifyRequest): string | undefined {
  return /^Bearer\s+(\S{1,512})\s*$/i.exec(req.headers.authorization ?? '')?.[1];
}

export function installAuth(app: FastifyInstance, deps: ApiDeps): void {
  users.set(deps, new TtlCache<User | undefined>(2000));
  roles.set(deps, new TtlCache<Role[]>(2000));
  app.decorateRequest('slipwayUser', null);
  app.addHook('onRequest', async (req, reply) => {
    if (PUBLIC.some((re) => re.test(req.url))) return;
    const token = bearerToken(req);
    const user = token ? await userOfToken(deps, token) : undefined;
    if (!user) {
      reply.header('www-authenticate', 'Bearer');
      return sendProblem(reply, new ApiError(401, 'Unauthorized', token ? 'the token is not valid' : 'missing Authorization: Bearer <token>'));
    }
    req.slipwayUser = user;
  });
}

/** The user a token belongs to (looked up by hash, cached for a moment like every API call). */
export async function userOfToken(deps: ApiDeps, token: string): Promise<User | undefined> {
  const load = () => userByToken(deps.slipway.rt.db.kysely, token);
  const cache = users.get(deps);
  return cache ? cache.get(token, load) : load();
}

/** Forget cached roles (after a grant or a revocation) so the change shows at once. */
export function forgetRoles(deps: ApiDeps): void {
  roles.get(deps)?.clear();
}

/**
 * Forget cached token lookups (after a token is revoked or rotated): the old token gets 401 on
 * its next request in this process (other processes sharing the database within 2 s).
 */
export function forgetTokens(deps: ApiDeps): void {
  users.get(deps)?.clear();
}

export function currentUser(req: FastifyRequest): User {
  if (!req.slipwayUser) throw new ApiError(401, 'Unauthorized', 'not authenticated');
  return req.slipwayUser;
}

export async function rolesFor(deps: ApiDeps, user: User, programId: string): Promise<Role[]> {
  const cache = roles.get(deps);
  const load = () => rolesOf(deps.slipway.rt.db.kysely, programId, user.id);
  return cache ? cache.get(`${user.id}/${programId}`, load) : load();
}

/** Throws 403 unless the request's user may do `permission` on the program. */
export async function authorize(req: FastifyRequest, deps: ApiDeps, programId: string, permission: Permission): Promise<User> {
  const user = currentUser(req);
  if (user.admin) return user;
  if (permission === 'admin') throw forbidden('this needs an administrator');
  if (!allows(await rolesFor(deps, user, programId), permission)) {
    throw forbidden(`user ${user.name} may not ${permission === 'read' ? 'read' : 'change'} program ${programId}`);
  }
  return user;
}

/** What the request's user may do on the program, for the links a view offers. */
export async function accessFor(req: FastifyRequest, deps: ApiDeps, programId: string): Promise<Access> {
  const user = currentUser(req);
  if (user.admin) return { operate: true, managed: true };
  const roles = await rolesFor(deps, user, programId);
  return { operate: allows(roles, 'operate'), managed: allows(roles, 'managed') };
}

export function requireAdmin(req: FastifyRequest): User {
  const user = currentUser(req);
  if (!user.admin) throw forbidden('this needs an administrator');
  return user;
}
