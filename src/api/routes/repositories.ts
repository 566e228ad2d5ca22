// Repositories of a program and their branches (read live with `git ls-remote --heads`).
import type { FastifyInstance } from 'fastify';
import { listPipelines } from '../../store/pipelines.ts';
import { createRepository, deleteRepository, getRepository, listRepositories } from '../../store/programs.ts';
import { checkRepositoryUrl, RepositoryUrlRefused } from '../../runner/repository-url.ts';
import { checkRemote, git } from '../../runner/git.ts';
import { authorize } from '../auth.ts';
import type { ApiDeps } from '../deps.ts';
import { link, list, paths, rel } from '../hal.ts';
import { loadProgram } from '../load.ts';
import { ApiError, badRequest, conflict, notFound } from '../problem.ts';
import { idParams, nameSchema } from '../schemas.ts';
import { repositoryJson } from '../view-resources.ts';

type RepoParams = { programId: string; repositoryId: string };

/**
 * git URLs Slipway accepts in form: URLs with a scheme, or scp-like `user@host:path`. Local
 * paths and file:// pass the form but are then refused by checkRepositoryUrl with a reason.
 */
export const REPOSITORY_URL = '^(?:(?:https?|git|ssh|file)://[^\\s]+|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\\s]+|/[^\\s]*)$';

export function repositoryRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const db = deps.slipway.rt.db.kysely;
  const base = '/api/program/:programId';

  async function load(params: RepoParams) {
    const repo = await getRepository(db, params.programId, params.repositoryId);
    if (!repo) throw notFound(`repository ${params.repositoryId} of program ${params.programId}`);
    return repo;
  }

  app.get<{ Params: { programId: string } }>(`${base}/repositories`, { schema: { params: idParams('programId') } }, async (req) => {
    const program = await loadProgram(deps, req.params.programId);
    await authorize(req, deps, program.id, 'read');
    const repos = await listRepositories(db, program.id);
    return list('repositories', repos.map(repositoryJson), `${paths.program(program.id)}/repositories`);
  });

  app.get<{ Params: RepoParams }>(`${base}/repository/:repositoryId`, { schema: { params: idParams('programId', 'repositoryId') } }, async (req) => {
    await authorize(req, deps, req.params.programId, 'read');
    return repositoryJson(await load(req.params));
  });

  app.get<{ Params: RepoParams }>(`${base}/repository/:repositoryId/branches`, {
    schema: { params: idParams('programId', 'repositoryId'), summary: 'Branches, read live from the remote' },
  }, async (req) => {
    await authorize(req, deps, req.params.programId, 'read');
    const repo = await load(req.params);
    let out: string;
    try {
      out = await git([...await checkRemote(repo.url), 'ls-remote', '--heads', '--', repo.url], { timeoutMs: 30_000 });
    } catch (e) {
      if (e instanceof RepositoryUrlRefused) throw badRequest(e.message);
      throw new ApiError(502, 'Bad Gateway', `cannot list branches of ${repo.url}: ${e instanceof Error ? e.message : String(e)}`, undefined, undefined, { cause: e });
    }
    const self = paths.repository(repo.programId, repo.id);
    const branches = out.split('\n').map((l) => l.split('\t')).filter((c) => c[1]?.startsWith('refs/heads/')).map((c) => ({
      _links: { [rel('program')]: link(paths.program(repo.programId)), [rel('repository')]: link(self) },
      programId: repo.programId, repositoryId: repo.id, name: (c[1] ?? '').slice('refs/heads/'.length), commitId: c[0],
    }));
    return list('branches', branches, `${self}/branches`);
  });

  app.post<{ Params: { programId: string }; Body: { name: string; url: string; description?: string } }>(`${base}/repositories`, {
    schema: {
      params: idParams('programId'),
      body: {
        type: 'object', required: ['name', 'url'],
        properties: {
          name: nameSchema, url: { type: 'string', maxLength: 2048, pattern: REPOSITORY_URL },
          description: { type: 'string', maxLength: 1024 },
        },
      },
    },
  }, async (req, reply) => {
    const program = await loadProgram(deps, req.params.programId);
    await authorize(req, deps, program.id, 'operate');
    try {
      await checkRepositoryUrl(req.body.url);
    } catch (e) {
      if (e instanceof RepositoryUrlRefused) throw badRequest(e.message, [{ name: 'body.url', reason: e.message }]);
      throw e;
    }
    const repo = await createRepository(db, program.id, req.body);
    return reply.code(201).header('location', paths.repository(program.id, repo.id)).send(repositoryJson(repo));
  });

  app.delete<{ Params: RepoParams }>(`${base}/repository/:repositoryId`, { schema: { params: idParams('programId', 'repositoryId') } }, async (req, reply) => {
    await authorize(req, deps, req.params.programId, 'operate');
    const repo = await load(req.params);
    const users = (await listPipelines(db, repo.programId)).filter((p) => p.repositoryId === repo.id);
    if (users.length) throw conflict(`repository ${repo.name} is used by pipeline(s) ${users.map((p) => p.name).join(', ')}`);
    await deleteRepository(db, repo.programId, repo.id);
    deps.views.clear();
    return reply.code(204).send();
  });
}
