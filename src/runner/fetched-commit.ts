// The commit an execution's validate step fetched (to read its contract), kept for the build: a
// bare repository holding exactly that commit (depth 1, one pack) at
// <execution dir>/commit-<id>.git. The build moves it into its workspace as the workspace's .git
// and checks the commit out: one download per execution instead of two, and no round trip to
// the remote between the build's start and its command (bench: build-overhead). So the build
// builds the commit that validate checked. Where there is none (validate ran on another host's
// engine, or the repository could not be used), the build fetches the branch itself.
import { existsSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkRemote, git, initRepository, ONE_OFF_FETCH, REPOSITORY_CONFIG } from './git.ts';

export interface FetchedCommit {
  commit: string;
  dir: string;
}

const NAME = /^commit-([0-9a-f]{40,64})\.git$/;

/**
 * Fetches `commit` (depth 1) into a new bare repository in `executionDir` and hands it to `use`
 * (validate reads the contract from it). Kept for the build once `use` returns: the only one
 * there, replacing what an earlier attempt kept. Removed when `use` throws.
 */
export async function fetchCommit<T>(
  url: string, commit: string, executionDir: string, use: (dir: string) => Promise<T>, signal?: AbortSignal,
): Promise<T> {
  const dir = join(executionDir, `.fetching-${process.pid}-${Date.now().toString(36)}`);
  try {
    initRepository(dir, { bare: true });
    const pin = await checkRemote(url);
    // Fsynced (unlike the build's own fetch): it outlives this step, across a crash of the host.
    await git([...pin, ...ONE_OFF_FETCH, 'fetch', '--quiet', '--no-tags', '--depth', '1', '--', url, commit], { cwd: dir, signal });
    const result = await use(dir);
    for (const kept of readdirSync(executionDir).filter((n) => NAME.test(n))) rmSync(join(executionDir, kept), { recursive: true, force: true });
    renameSync(dir, join(executionDir, `commit-${commit}.git`));
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The commit validate kept in `executionDir`, if any. */
export function findFetchedCommit(executionDir: string): FetchedCommit | undefined {
  const names = existsSync(executionDir) ? readdirSync(executionDir) : [];
  for (const name of names) {
    const commit = NAME.exec(name)?.[1];
    if (commit) return { commit, dir: join(executionDir, name) };
  }
  return undefined;
}

/**
 * Moves a kept commit's repository into the empty `workspace` as its .git and checks the commit
 * out. Moved first, so that a crash leaves nothing half-used behind: the step's next attempt
 * finds no kept commit and fetches. Throws when git cannot check it out.
 */
export async function checkoutFetched(fetched: FetchedCommit, workspace: string, signal?: AbortSignal): Promise<string> {
  const gitDir = join(workspace, '.git');
  renameSync(fetched.dir, gitDir);
  writeFileSync(join(gitDir, 'config'), REPOSITORY_CONFIG);
  await git(['-c', 'advice.detachedHead=false', 'checkout', '--quiet', '--detach', fetched.commit], { cwd: workspace, signal });
  return fetched.commit;
}
