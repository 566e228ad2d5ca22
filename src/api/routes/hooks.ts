// The push hook's route: who may push, and the answer; triggers/ decides what a push starts.
import type { FastifyInstance } from 'fastify';
import { checkPipelineCommit } from '../../triggers/commit-watcher.ts';
import { pipelinesOfPush, type Push } from '../../triggers/push.ts';
import { allows, currentUser, rolesFor } from '../auth.ts';
import type { ApiDeps } from '../deps.ts';
import { badRequest } from '../problem.ts';
import { branchSchema, idSchema } from '../schemas.ts';

export function hookRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const db = deps.slipway.rt.db.kysely;
  app.post<{ Body: Push }>('/api/hooks/push', {
    schema: {
      summary: 'A push: starts the ON_COMMIT pipelines on that repository and branch whose commit moved',
      body: {
        type: 'object', required: ['branch'],
        properties: { repositoryUrl: { type: 'string', minLength: 1, maxLength: 2048 }, repositoryId: idSchema, branch: branchSchema },
      },
    },
  }, async (req, reply) => {
    const { repositoryUrl, repositoryId } = req.body;
    if (!repositoryUrl && !repositoryId) throw badRequest('give repositoryUrl or repositoryId', [{ name: 'body.repositoryUrl', reason: 'required without repositoryId' }]);
    const user = currentUser(req);
    const results: Record<string, unknown>[] = [];
    for (const pipeline of await pipelinesOfPush(db, req.body)) {
      if (!user.admin && !allows(await rolesFor(deps, user, pipeline.programId), 'operate')) continue;
      const check = await checkPipelineCommit(deps.slipway, pipeline);
      results.push({
        programId: pipeline.programId, pipelineId: pipeline.id, outcome: check.outcome,
        ...('commit' in check ? { commit: check.commit } : {}),
        ...(check.outcome === 'started' ? { executionId: check.execution.id } : {}),
        ...(check.outcome === 'error' ? { message: check.message } : {}),
      });
    }
    return reply.code(202).send({ pipelines: results });
  });
}
