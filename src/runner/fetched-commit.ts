// The commit an execution's validate step fetched and checked out (to read its contract), kept
// for the build: a work tree of exactly that commit (depth 1, one pack) with its .git, at
// <execution dir>/commit-<id>. The build takes it whole as its workspace: one download and one
// checkout per execution instead of two, and neither between the build's start and its command
// (bench: build-overhead). So the build builds the commit that validate checked. Where there is
// none (validate ran on another host's engine, or it could not be used), the build fetches the
// branch itself.
//
// A crash of Slipway loses nothing of a work tree that was complete when it was kept; a crash of
// the machine may (git writes a work tree without fsync, and a fsync of every file would cost
// what the checkout does). So a work tree is taken whole only on the boot it was checked out on
// (BOOT_FILE); after a reboot its repository, whose pack git fsyncs, is checked out anew.
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkRemote, git, initRepository, ONE_OFF_FETCH, REPOSITORY_CONFIG } from './git.ts';

export interface FetchedCommit {
  commit: string;
  dir: string;
  /** Only its repository (a bare one, kept by an earlier version of Slipway). */
  bare: boolean;
  /** Its work tree is complete on this boot: it can be taken whole. */
  checkedOut: boolean;
}

const NAME = /^commit-([0-9a-f]{40,64})(\.git)?$/;
/** In a kept work tree's .git: the boot id of the machine it was checked out on. */
const BOOT_FILE = 'slipway-boot-id';
const DETACHED_CHECKOUT = ['-c', 'advice.detachedHead=false', 'checkout', '--quiet', '--detach'];

function bootId(): string {
  return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
}

/**
 * Fetches `commit` (depth 1) into a new work tree in `executionDir`, checks it out and hands the
 * work tree to `use` (validate reads the contract from it). Kept for the build once `use`
 * returns: the only one there, replacing what an earlier attempt kept. Removed when `use` throws.
 */
export async function fetchCommit<T>(
  url: string, commit: string, executionDir: string, use: (dir: string) => Promise<T>, signal?: AbortSignal,
): Promise<T> {
  const dir = join(executionDir, `.fetching-${process.pid}-${Date.now().toString(36)}`);
  try {
    initRepository(dir);
    const pin = await checkRemote(url);
    // Fsynced (unlike the build's own fetch): it outlives this step, across a crash of the host.
    await git([...pin, ...ONE_OFF_FETCH, 'fetch', '--quiet', '--no-tags', '--depth', '1', '--', url, commit], { cwd: dir, signal });
    await git([...DETACHED_CHECKOUT, commit], { cwd: dir, signal });
    writeFileSync(join(dir, '.git', BOOT_FILE), bootId());
    const result = await use(dir);
    for (const kept of readdirSync(executionDir).filter((n) => NAME.test(n))) rmSync(join(executionDir, kept), { recursive: true, force: true });
    renameSync(dir, join(executionDir, `commit-${commit}`));
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The commit validate kept in `executionDir`, if any. */
export function findFetchedCommit(executionDir: string): FetchedCommit | undefined {
  const names = existsSync(executionDir) ? readdirSync(executionDir) : [];
  for (const name of names) {
    const [, commit, bare] = NAME.exec(name) ?? [];
    if (!commit) continue;
    const dir = join(executionDir, name);
    let boot: string | undefined;
    try { boot = bare ? undefined : readFileSync(join(dir, '.git', BOOT_FILE), 'utf8'); } catch { /* none: not complete */ }
    return { commit, dir, bare: bare !== undefined, checkedOut: boot === bootId() };
  }
  return undefined;
}

/**
 * Moves a kept commit into `workspace` (an empty dir), synchronously: a work tree complete on
 * this boot replaces it whole, otherwise the repository alone becomes its .git (the rest of a
 * work tree from before a reboot is dropped). Moved first, so that a crash leaves nothing
 * half-used behind: the step's next attempt finds no kept commit and fetches. Returns whether the
 * workspace still needs its checkout (checkoutFetched).
 */
export function moveFetched(fetched: FetchedCommit, workspace: string): boolean {
  if (fetched.checkedOut) {
    renameSync(fetched.dir, workspace);
    return false;
  }
  const gitDir = join(workspace, '.git');
  renameSync(fetched.bare ? fetched.dir : join(fetched.dir, '.git'), gitDir);
  if (!fetched.bare) rmSync(fetched.dir, { recursive: true, force: true });
  // Without an index (which describes the files dropped), the checkout writes every file.
  for (const file of [BOOT_FILE, 'index']) rmSync(join(gitDir, file), { force: true });
  writeFileSync(join(gitDir, 'config'), REPOSITORY_CONFIG);
  return true;
}

/** Checks out a kept commit whose repository moveFetched made the workspace's .git. Throws when git cannot. */
export async function checkoutFetched(fetched: FetchedCommit, workspace: string, signal?: AbortSignal): Promise<void> {
  await git([...DETACHED_CHECKOUT, fetched.commit], { cwd: workspace, signal });
}
