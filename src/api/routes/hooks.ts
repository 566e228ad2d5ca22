// The push hook: a git server (or CI) says a branch moved; the ON_COMMIT pipelines on that
// repository and branch are checked at once instead of waiting for the poller.
import type { FastifyInstance } from 'fastify';
import { checkPipelineCommit } from '../../engine/commit-watcher.ts';
import { listPipelines } from '../../store/pipelines.ts';
import { listRepositories } from '../../store/programs.ts';
import { allows, currentUser, rolesFor } from '../auth.ts';
import type { ApiDeps } from '../deps.ts';
import { badRequest } from '../problem.ts';
import { branchSchema, idSchema } from '../schemas.ts';

interface PushBody { repositoryUrl?: string; repositoryId?: string; branch: string }

export function hookRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const db = deps.slipway.rt.db.kysely;
  app.post<{ Body: PushBody }>('/api/hooks/push', {
    schema: {
      summary: 'A push: starts the ON_COMMIT pipelines on that repository and branch whose commit moved',
      body: {
        type: 'object', required: ['branch'],
        properties: { repositoryUrl: { type: 'string', minLength: 1, maxLength: 2048 }, repositoryId: idSchema, branch: branchSchema },
      },
    },
  }, async (req, reply) => {
    const { repositoryUrl, repositoryId, branch } = req.body;
    if (!repositoryUrl && !repositoryId) throw badRequest('give repositoryUrl or repositoryId', [{ name: 'body.repositoryUrl', reason: 'required without repositoryId' }]);
    const user = currentUser(req);
    const branchName = branch.replace(/^refs\/heads\//, '');
    const results: Record<string, unknown>[] = [];
    for (const pipeline of await listPipelines(db)) {
      if (pipeline.trigger !== 'ON_COMMIT' || pipeline.branch !== branchName) continue;
      const repos = await listRepositories(db, pipeline.programId);
      const repo = repos.find((r) => r.id === pipeline.repositoryId);
      if (!repo || (repositoryId ? repo.id !== repositoryId : repo.url !== repositoryUrl)) continue;
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
