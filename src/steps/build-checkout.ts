// The build's checkout: the commit validate fetched for this execution (runner/fetched-commit.ts),
// or else the branch's tip, into the build's empty workspace.
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { checkoutFetched, findFetchedCommit } from '../runner/fetched-commit.ts';
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

/** Checks out the commit validate fetched, or else the branch's tip: its commit. Throws when git fails. */
export async function checkoutCommit(ctx: StepContext, workspace: string): Promise<string> {
  const kept = await checkoutKept(ctx, workspace);
  if (kept !== undefined) return kept;
  const { repository, pipeline } = ctx;
  ctx.log.line(`Fetching branch ${pipeline.branch} of ${repository.url}`);
  initRepository(workspace);
  return fetchBranch(repository.url, pipeline.branch, workspace, ctx.signal);
}

/** The commit validate kept for this execution, checked out; undefined (the workspace empty) when there is none or it cannot be. */
async function checkoutKept(ctx: StepContext, workspace: string): Promise<string | undefined> {
  const kept = findFetchedCommit(dirname(ctx.workDir));
  if (!kept) return undefined;
  ctx.log.line(`Checking out commit ${kept.commit}, as validate fetched it`);
  try {
    return await checkoutFetched(kept, workspace, ctx.signal);
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    ctx.log.line(`It could not be checked out (${(err as Error).message}): the branch is fetched instead`);
    // Emptied, not made anew: the sandbox, started meanwhile, has bound this very directory.
    await Promise.all(readdirSync(workspace).map((name) => rm(join(workspace, name), { recursive: true, force: true })));
    return undefined;
  }
}
