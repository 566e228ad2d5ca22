// Users, their API tokens (stored as SHA-256 hashes, never in clear) and program roles.
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';
import { toId } from './json.ts';

type K = Kysely<Database>;

export const ROLES = ['BUSINESS_OWNER', 'DEPLOYMENT_MANAGER', 'PROGRAM_MANAGER', 'DEVELOPER', 'SUPPORT'] as const;
export type Role = (typeof ROLES)[number];

export interface User {
  id: string;
  name: string;
  admin: boolean;
}

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');
export const newToken = (): string => `slw_${randomBytes(24).toString('base64url')}`;

export async function ensureUser(db: K, name: string, admin = false, now = Date.now()): Promise<User> {
  const existing = await db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst();
  const row = existing ?? await db.insertInto('users').values({ name, admin: admin ? 1 : 0, created_at: now })
    .returningAll().executeTakeFirstOrThrow();
  if (existing && admin && !existing.admin) await db.updateTable('users').set({ admin: 1 }).where('id', '=', existing.id).execute();
  return { id: String(row.id), name: row.name, admin: admin || Boolean(row.admin) };
}

export async function addToken(db: K, userId: string, token: string, label: string, now = Date.now()): Promise<void> {
  await db.insertInto('tokens').values({ hash: hashToken(token), user_id: toId(userId), label, created_at: now })
    .onConflict((oc) => oc.column('hash').doNothing()).execute();
}

export async function userByToken(db: K, token: string): Promise<User | undefined> {
  const row = await db.selectFrom('tokens').innerJoin('users', 'users.id', 'tokens.user_id')
    .select(['users.id', 'users.name', 'users.admin']).where('tokens.hash', '=', hashToken(token)).executeTakeFirst();
  return row && { id: String(row.id), name: row.name, admin: Boolean(row.admin) };
}

export async function grantRole(db: K, programId: string, userId: string, role: Role): Promise<void> {
  await db.insertInto('members').values({ program_id: toId(programId), user_id: toId(userId), role })
    .onConflict((oc) => oc.columns(['program_id', 'user_id', 'role']).doNothing()).execute();
}

export async function rolesOf(db: K, programId: string, userId: string): Promise<Role[]> {
  const rows = await db.selectFrom('members').select('role')
    .where('program_id', '=', toId(programId)).where('user_id', '=', toId(userId)).execute();
  return rows.map((r) => r.role as Role);
}

/** The program's members with their roles, by user name. */
export async function membersOf(db: K, programId: string): Promise<{ user: string; roles: Role[] }[]> {
  const rows = await db.selectFrom('members').innerJoin('users', 'users.id', 'members.user_id')
    .select(['users.name as name', 'members.role as role']).where('members.program_id', '=', toId(programId))
    .orderBy('users.name').orderBy('members.role').execute();
  const members = new Map<string, Role[]>();
  for (const r of rows) members.set(r.name, [...(members.get(r.name) ?? []), r.role as Role]);
  return [...members].map(([user, roles]) => ({ user, roles }));
}

export async function programIdsOf(db: K, userId: string): Promise<string[]> {
  const rows = await db.selectFrom('members').select('program_id').distinct().where('user_id', '=', toId(userId)).execute();
  return rows.map((r) => String(r.program_id));
}

export async function userByName(db: K, name: string): Promise<User | undefined> {
  const row = await db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst();
  return row && { id: String(row.id), name: row.name, admin: Boolean(row.admin) };
}

/** Removes the user's roles on the program (one role, or all); returns how many went. */
export async function revokeRoles(db: K, programId: string, userId: string, role?: Role): Promise<number> {
  let query = db.deleteFrom('members').where('program_id', '=', toId(programId)).where('user_id', '=', toId(userId));
  if (role) query = query.where('role', '=', role);
  const result = await query.executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Makes `roles` the user's roles on the program, whatever they were (run it in a transaction). */
export async function setRoles(db: K, programId: string, userId: string, roles: readonly Role[]): Promise<void> {
  await revokeRoles(db, programId, userId);
  for (const role of new Set(roles)) await grantRole(db, programId, userId, role);
}

/** The label of the administrator's token that comes from SLIPWAY_ADMIN_TOKEN or <data>/admin-token. */
export const BOOTSTRAP_LABEL = 'bootstrap admin token';

/** Thrown for the bootstrap token: it is set by configuration, and comes back at every start. */
export class BootstrapTokenError extends Error {
  constructor() {
    super('the bootstrap admin token is set by SLIPWAY_ADMIN_TOKEN or <data>/admin-token: change it there and restart');
    this.name = 'BootstrapTokenError';
  }
}

/**
 * Registers the configured bootstrap token and retires every earlier one, so changing
 * SLIPWAY_ADMIN_TOKEN (or <data>/admin-token) and restarting is how that token is rotated.
 */
export async function setBootstrapToken(db: K, adminId: string, token: string, now = Date.now()): Promise<void> {
  await db.deleteFrom('tokens').where('label', '=', BOOTSTRAP_LABEL).where('hash', '!=', hashToken(token)).execute();
  await addToken(db, adminId, token, BOOTSTRAP_LABEL, now);
}

async function refuseBootstrap(db: K, token: string): Promise<void> {
  const row = await db.selectFrom('tokens').select('label').where('hash', '=', hashToken(token)).executeTakeFirst();
  if (row?.label === BOOTSTRAP_LABEL) throw new BootstrapTokenError();
}

/** Deletes one token (by its clear value); true when it existed. */
export async function revokeToken(db: K, token: string): Promise<boolean> {
  await refuseBootstrap(db, token);
  const result = await db.deleteFrom('tokens').where('hash', '=', hashToken(token)).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Deletes every token of the user but the bootstrap token; returns how many went. */
export async function revokeTokensOf(db: K, userId: string): Promise<number> {
  const result = await db.deleteFrom('tokens').where('user_id', '=', toId(userId)).where('label', '!=', BOOTSTRAP_LABEL).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Replaces `token` with a new token of the same user and label, in one transaction. */
export async function rotateToken(db: K, userId: string, token: string, now = Date.now()): Promise<string> {
  await refuseBootstrap(db, token);
  const fresh = newToken();
  await db.transaction().execute(async (tx) => {
    const old = await tx.selectFrom('tokens').select('label').where('hash', '=', hashToken(token)).executeTakeFirst();
    await tx.deleteFrom('tokens').where('hash', '=', hashToken(token)).execute();
    await tx.insertInto('tokens').values({ hash: hashToken(fresh), user_id: toId(userId), label: old?.label ?? 'rotated', created_at: now }).execute();
  });
  return fresh;
}
