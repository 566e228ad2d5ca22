// The build's checkout: the commit validate fetched and checked out for this execution
// (runner/fetched-commit.ts), or else the branch's tip, into the build's empty workspace.
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { checkoutFetched, findFetchedCommit, moveFetched } from '../runner/fetched-commit.ts';
import { fetchBranch, initRepository } from '../runner/git.ts';
import type { StepContext } from './handler.ts';

/**
 * Empty work dirs, made synchronously: microseconds, where as many hops through libuv's
 * threadpool take milliseconds on a busy machine, and the fetch waits for them. A rerun after
 * a crash first removes what the attempt before it left.
 */
export async function freshWorkDirs(dirs: string[]): Promise<void> {
  await Promise.all(dirs.filter((d) => existsSync(d)).map((d) => rm(d, { recursive: true, force: true })));
  for (const d of dirs) mkdirSync(d, { recursive: true });
}

/**
 * Checks out the commit validate kept, or else the branch's tip, into the empty `workspace`: its
 * commit. What it takes of the kept commit is moved into place before this returns: the sandbox,
 * started right after, binds the workspace as it is then. The promise rejects when git fails.
 */
export function checkoutCommit(ctx: StepContext, workspace: string): Promise<string> {
  const kept = findFetchedCommit(dirname(ctx.workDir));
  if (!kept) return fetchTip(ctx, workspace);
  ctx.log.line(`Checking out commit ${kept.commit}, as validate fetched it`);
  if (!moveFetched(kept, workspace)) return Promise.resolve(kept.commit);
  return checkoutFetched(kept, workspace, ctx.signal).then(() => kept.commit, async (err: unknown) => {
    if (ctx.signal.aborted) throw err;
    ctx.log.line(`It could not be checked out (${(err as Error).message}): the branch is fetched instead`);
    // Emptied, not made anew: the sandbox, started meanwhile, has bound this very directory.
    await Promise.all(readdirSync(workspace).map((name) => rm(join(workspace, name), { recursive: true, force: true })));
    return fetchTip(ctx, workspace);
  });
}

async function fetchTip(ctx: StepContext, workspace: string): Promise<string> {
  const { repository, pipeline } = ctx;
  ctx.log.line(`Fetching branch ${pipeline.branch} of ${repository.url}`);
  initRepository(workspace);
  return fetchBranch(repository.url, pipeline.branch, workspace, ctx.signal);
}
