// Administrators rotate the URL-signing key over the API as `slipway rotate-signing-key` does
// on the data directory: every signed log and artifact link given out before stops working.
import type { FastifyInstance } from 'fastify';
import { requireAdmin } from '../auth.ts';
import type { ApiDeps } from '../deps.ts';
import { conflict } from '../problem.ts';
import { rotateSigningKey } from '../signing.ts';

export function signingKeyRoutes(app: FastifyInstance, deps: ApiDeps, fixedKey: boolean): void {
  app.post('/api/signing-key/rotate', { schema: { summary: 'Replace the URL-signing key (admin); earlier signed links stop working' } }, async (req, reply) => {
    requireAdmin(req);
    if (fixedKey) throw conflict('this server signs with a key given in its configuration; there is no key file to rotate');
    rotateSigningKey(deps.slipway.config.dataDir);
    return reply.code(204).send();
  });
}
