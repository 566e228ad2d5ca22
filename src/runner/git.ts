// Git, for the build, the commit triggers and the API's branch list: resolve a branch to its
// commit without cloning, and fetch a branch's tip into a fresh directory (shallow), naming the
// commit checked out, so the build records exactly the commit it built. Never prompts for
// credentials.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkRepositoryUrl, isLocalRepository, pinnedResolveArgs } from './repository-url.ts';

export class GitError extends Error {
  constructor(readonly args: string[], readonly exitCode: number | null, readonly stderr: string) {
    super(`git ${subcommand(args)} failed (${exitCode ?? 'killed'}): ${stderr.trim().split('\n').slice(-3).join(' / ')}`);
    this.name = 'GitError';
  }
}

/** The git subcommand of an argument list (skipping `-c key=value` options). */
function subcommand(args: string[]): string {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '-c' || arg === '-C') i++;
    else if (!arg.startsWith('-')) return arg;
  }
  return '';
}

const GIT_ENV = {
  GIT_TERMINAL_PROMPT: '0',
  GIT_ASKPASS: '/bin/false',
  SSH_ASKPASS: '/bin/false',
  GIT_SSH_COMMAND: 'ssh -o BatchMode=yes -o ConnectTimeout=20 -o ServerAliveInterval=10 -o ServerAliveCountMax=2',
  GIT_CONFIG_NOSYSTEM: '1',
};

/**
 * Every git call gives up on a remote that trickles (below 1000 bytes/s for 20 s) and on one
 * that never answers (the process timeout), so one bad remote cannot stall a build or the
 * commit poller. Redirects are not followed: a checked public remote must not send git on to
 * an address that was never checked.
 */
const LOW_SPEED = ['-c', 'http.lowSpeedLimit=1000', '-c', 'http.lowSpeedTime=20', '-c', 'http.followRedirects=false'];
export const GIT_TIMEOUT_MS = 5 * 60_000;

export interface GitOptions {
  cwd?: string;
  signal?: AbortSignal;
  /** Process timeout (default GIT_TIMEOUT_MS); the whole process group is killed. */
  timeoutMs?: number;
}

export function git(args: string[], options: GitOptions = {}): Promise<string> {
  const timeoutMs = options.timeoutMs ?? GIT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) return reject(options.signal.reason as Error);
    const child = spawn('git', [...LOW_SPEED, ...args], {
      cwd: options.cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...GIT_ENV },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: git's helpers (git-remote-http, ssh) are killed with it.
      detached: true,
    });
    let stopped: 'timeout' | 'aborted' | undefined;
    const kill = (why: 'timeout' | 'aborted') => {
      stopped ??= why;
      try { if (child.pid) process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
    };
    const timer = setTimeout(() => kill('timeout'), timeoutMs);
    const onAbort = () => kill('aborted');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (stopped === 'aborted') reject(options.signal?.reason instanceof Error ? options.signal.reason : new Error('git aborted'));
      else if (stopped === 'timeout') reject(new GitError(args, null, `timed out after ${Math.round(timeoutMs / 1000)} s`));
      else if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else reject(new GitError(args, code, Buffer.concat(err).toString('utf8')));
    });
  });
}

/**
 * Refuses a remote URL whose host is not (or no longer) acceptable: checked again before each
 * network call, since a name may resolve elsewhere than when the repository was registered.
 * Returns the git options that pin the connection to the checked addresses. Local paths pass
 * here: only Slipway itself creates those (the API refuses them).
 */
export async function checkRemote(url: string): Promise<string[]> {
  if (isLocalRepository(url)) return [];
  return pinnedResolveArgs(url, await checkRepositoryUrl(url));
}

/** `git ls-remote` of a checked remote: lines of "<sha>\t<ref>". */
export async function lsRemote(url: string, refs: string[], options: GitOptions = {}): Promise<string> {
  const pin = await checkRemote(url);
  return git([...pin, 'ls-remote', '--', url, ...refs], { timeoutMs: 60_000, ...options });
}

/** A branch name as a full ref (a full ref stays as it is). */
function branchRef(branch: string): string {
  return branch.startsWith('refs/') ? branch : `refs/heads/${branch}`;
}

/** The commit a branch points at, via `git ls-remote`; throws when the branch does not exist. */
export async function resolveBranch(url: string, branch: string, signal?: AbortSignal, timeoutMs?: number): Promise<string> {
  const ref = branchRef(branch);
  const out = await lsRemote(url, [ref], { ...(signal ? { signal } : {}), ...(timeoutMs ? { timeoutMs } : {}) });
  for (const line of out.split('\n')) {
    const [sha, name] = line.split('\t');
    if (name === ref && sha && /^[0-9a-f]{40,64}$/.test(sha)) return sha;
  }
  throw new Error(`branch "${branch}" not found in ${url}`);
}

/** The core config `git init --template=` writes on Linux (a work tree's; bare: see initRepository). */
export const REPOSITORY_CONFIG = '[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n\tlogallrefupdates = true\n';
const BARE_CONFIG = '[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = true\n';

/**
 * A fresh, empty repository at `dir` (made if missing) to fetch into, as `git init --template=`
 * (or `--bare`) makes it; written here, since a git process costs several times these few
 * files (bench: build-overhead). Synchronous: a dozen tiny calls take microseconds, where as
 * many hops through libuv's threadpool take milliseconds on a busy machine, and the fetch waits.
 */
export function initRepository(dir: string, { bare = false }: { bare?: boolean } = {}): void {
  const gitDir = bare ? dir : join(dir, '.git');
  for (const d of ['objects/info', 'objects/pack', 'refs/heads', 'refs/tags']) mkdirSync(join(gitDir, d), { recursive: true });
  writeFileSync(join(gitDir, 'HEAD'), 'ref: refs/heads/master\n', { flag: 'wx' });
  writeFileSync(join(gitDir, 'config'), bare ? BARE_CONFIG : REPOSITORY_CONFIG, { flag: 'wx' });
}

/**
 * What a fetch into a fresh repository does not need: a pack kept as it came (one file) instead
 * of one loose object file per object, and no automatic maintenance. The build's own fetch also
 * skips the fsync of the pack and refs (UNSYNCED, ~2 ms): its repository is thrown away after the
 * build, and a build cut off by a crash is run again from an empty one (bench: build-overhead).
 */
export const ONE_OFF_FETCH = ['-c', 'fetch.unpackLimit=1', '-c', 'maintenance.auto=false', '-c', 'gc.auto=0', '-c', 'protocol.version=2'];
const UNSYNCED = ['-c', 'core.fsync=none'];

/**
 * Fetches the tip of `branch` (depth 1) into `dir` (made by initRepository), checks it out and
 * returns its commit. Resolving and fetching are one connection: the commit returned is the one
 * checked out, however the branch moves meanwhile. Throws when the branch does not exist.
 */
export async function fetchBranch(url: string, branch: string, dir: string, signal?: AbortSignal): Promise<string> {
  const ref = branchRef(branch);
  const pin = await checkRemote(url);
  try {
    // No tags: only the commit's own objects (a depth-1 fetch of one ref).
    await git([...pin, ...ONE_OFF_FETCH, ...UNSYNCED, 'fetch', '--quiet', '--no-tags', '--depth', '1', '--', url, ref], { cwd: dir, signal });
  } catch (err) {
    if (err instanceof GitError && /couldn't find remote ref/.test(err.stderr)) throw new Error(`branch "${branch}" not found in ${url}`);
    throw err;
  }
  await git(['-c', 'advice.detachedHead=false', 'checkout', '--quiet', '--detach', 'FETCH_HEAD'], { cwd: dir, signal });
  // A detached HEAD is the commit id itself: read it rather than start one more git.
  const head = (await readFile(join(dir, '.git', 'HEAD'), 'utf8')).trim();
  if (!/^[0-9a-f]{40,64}$/.test(head)) throw new Error(`checkout of ${ref} left HEAD at ${head}`);
  return head;
}
