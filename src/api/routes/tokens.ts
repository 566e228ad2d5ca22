// API tokens: a user rotates or revokes the token it calls with; an administrator revokes
// every token of a user. Tokens are stored hashed (store/users.ts); a new token is shown once.
import type { FastifyInstance } from 'fastify';
import { BootstrapTokenError, revokeToken, revokeTokensOf, rotateToken, userByName } from '../../store/users.ts';
import { bearerToken, currentUser, forgetTokens, requireAdmin } from '../auth.ts';
import type { ApiDeps } from '../deps.ts';
import { ApiError, conflict, notFound } from '../problem.ts';

const userParams = {
  type: 'object', required: ['user'], properties: { user: { type: 'string', pattern: '^[A-Za-z0-9_.@+-]{1,100}$' } },
} as const;

/** The bootstrap token is configuration: refusing to change it here is a conflict, not a 500. */
async function notBootstrap<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof BootstrapTokenError) throw conflict(e.message);
    throw e;
  }
}

function callerToken(req: Parameters<typeof bearerToken>[0]): string {
  const token = bearerToken(req);
  if (!token) throw new ApiError(401, 'Unauthorized', 'missing Authorization: Bearer <token>');
  return token;
}

export function tokenRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const db = deps.slipway.rt.db.kysely;

  app.post('/api/tokens/rotate', {
    schema: { summary: 'Replace the token of this request with a new one (returned once); the old one stops working' },
  }, async (req) => {
    const user = currentUser(req);
    const token = await notBootstrap(() => rotateToken(db, user.id, callerToken(req)));
    forgetTokens(deps);
    return { user: user.name, token };
  });

  app.delete('/api/tokens/current', { schema: { summary: 'Revoke the token of this request (sign out)' } }, async (req, reply) => {
    currentUser(req);
    await notBootstrap(() => revokeToken(db, callerToken(req)));
    forgetTokens(deps);
    return reply.code(204).send();
  });

  app.delete<{ Params: { user: string } }>('/api/users/:user/tokens', {
    schema: { summary: 'Revoke every token of a user (admin)', params: userParams },
  }, async (req) => {
    requireAdmin(req);
    const user = await userByName(db, req.params.user);
    if (!user) throw notFound(`user ${req.params.user}`);
    const revoked = await revokeTokensOf(db, user.id);
    forgetTokens(deps);
    return { user: user.name, revoked };
  });
}
