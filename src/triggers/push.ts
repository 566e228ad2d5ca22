// The push hook's question: which ON_COMMIT pipelines does a push name? A git server (or CI)
// says a branch of a repository moved; those pipelines are checked at once (commit-watcher.ts)
// instead of waiting for the poller.
import type { Kysely } from 'kysely';
import type { Pipeline } from '../domain/model.ts';
import { listPipelines } from '../store/pipelines.ts';
import { listRepositories } from '../store/programs.ts';
import type { Database } from '../store/schema.ts';

export interface Push {
  /** The repository, by its URL or by its id. */
  repositoryUrl?: string;
  repositoryId?: string;
  /** A branch name, or a ref (`refs/heads/…`). */
  branch: string;
}

/** The ON_COMMIT pipelines on the pushed repository and branch. */
export async function pipelinesOfPush(db: Kysely<Database>, push: Push): Promise<Pipeline[]> {
  const branch = push.branch.replace(/^refs\/heads\//, '');
  const found: Pipeline[] = [];
  for (const pipeline of await listPipelines(db)) {
    if (pipeline.trigger !== 'ON_COMMIT' || pipeline.branch !== branch) continue;
    const repo = (await listRepositories(db, pipeline.programId)).find((r) => r.id === pipeline.repositoryId);
    if (repo && (push.repositoryId ? repo.id === push.repositoryId : repo.url === push.repositoryUrl)) found.push(pipeline);
  }
  return found;
}
