// Everything a run needs on the host before its command line runs (sandbox.ts says how a run
// goes): the run's cgroups, its own run dir (seccomp filter, the staging mount points and their
// fstab), and the writable dirs made the sandbox account's; and their release afterwards, or, for
// a Slipway process killed before it released them, at the next one's first run.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, lchownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { createRunCgroup, type RunCgroup } from './cgroup.ts';
import { pidIn, sweepDeadPids } from './pids.ts';
import { ENV_FILE, SECCOMP_FILE, STAGING_FSTAB, boundDirs, isInside, cacheDirs, envArgs, sandboxCommand, stagingFstab, writableDirs, type SandboxCommand, type SandboxSpec } from './sandbox-command.ts';
import { seccompFilter } from './seccomp.ts';
import { sandboxHost, type SandboxHost } from './sandbox-host.ts';

const run = promisify(execFile);

/** rmdir, retried while the run's mount namespace (holding the staged binds) winds down. */
async function removeDir(dir: string): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      rmdirSync(dir);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * Makes dirs the sandbox account's (when it is not Slipway's own): -R without -L never follows a
 * symlink in the (hostile) tree, -h changes links themselves. A cache dir (SandboxSpec.cachePaths)
 * whose top is the account's already is left as it is: only runs, as that account, ever wrote
 * into it since it was handed over, so all of it is the account's.
 */
export async function own(host: SandboxHost, dirs: string[], caches: string[] = []): Promise<void> {
  const account = host.runAs;
  if (!account) return;
  // lstat synchronously: microseconds, where the threadpool may be busy with the build's writes.
  const left = dirs.filter((dir) => {
    const top = caches.includes(dir) ? lstatSync(dir, { throwIfNoEntry: false }) : undefined;
    return !(top?.isDirectory() === true && top.uid === account.uid && top.gid === account.gid);
  });
  if (left.length > 0) await run('chown', ['-R', '-h', `${account.uid}:${account.gid}`, '--', ...left]);
}

/** Slices of handOverTree's synchronous walk: the event loop gets a turn after this long. */
const SLICE_MS = 10;

/**
 * Makes a tree that only root has written the sandbox account's, in this process: lchown never
 * follows a symlink, and the walk never enters one (readdir reports a link as a link). Only for
 * a tree no process of the account has been able to touch (a fresh checkout, before its
 * command): with nobody to swap a directory for a link meanwhile, this is as safe as `chown -R
 * -h`, without its process (a fork of this one) on the way to the command (bench:
 * build-overhead). Dirs that runs have written go through own().
 */
export async function handOverTree(host: SandboxHost, root: string): Promise<void> {
  const account = host.runAs;
  if (!account) return;
  lchownSync(root, account.uid, account.gid);
  if (!lstatSync(root).isDirectory()) return;
  let sliceStart = performance.now();
  for (const dirs = [root]; dirs.length > 0;) {
    const dir = dirs.pop() ?? '';
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      lchownSync(path, account.uid, account.gid);
      if (entry.isDirectory()) dirs.push(path);
      if (performance.now() - sliceStart > SLICE_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        sliceStart = performance.now();
      }
    }
  }
}

/** What a run's chain needs on the host before it starts, whatever its dirs and command. */
export interface PreparedChain {
  cgroup?: RunCgroup;
  /** The run's own dir on the host (see sandbox-command.ts). */
  runDir: string;
  /** (root only) The dirs staged for the run; undefined: its bound dirs. */
  stagedRoots?: string[];
  /** Kills whatever is left in the run's cgroups and removes them and the run dir. */
  release(): Promise<void>;
}

export interface PreparedSandbox extends SandboxCommand, PreparedChain {}

/**
 * What a run dir is for: a run ('run'), or a build's chain started ahead (sandbox-ahead.ts). Its
 * name in the temp dir: `slipway-<kind>-<pid of the Slipway process>-<random>`.
 */
export type RunDirKind = 'run' | 'ahead';
const RUN_DIR_NAME = /^slipway-(?:run|ahead)-(\d+)-/;
/** The files of a run dir (beside its numbered staging dirs). */
const RUN_FILES = [SECCOMP_FILE, ENV_FILE, STAGING_FSTAB];
let swept = false;

/**
 * A run dir, synchronously (for an exit handler too), never recursively: its numbered sub-dirs
 * were mount points in the run's own namespace. What is not empty stays.
 */
export function removeRunDir(runDir: string): void {
  let names: string[];
  try { names = readdirSync(runDir); } catch { return; /* gone */ }
  for (const name of names) {
    if (RUN_FILES.includes(name)) rmSync(join(runDir, name), { force: true });
    else if (/^\d+$/.test(name)) { try { rmdirSync(join(runDir, name)); } catch { /* not empty */ } }
  }
  try { rmdirSync(runDir); } catch { /* not empty */ }
}

/**
 * Removes the run dirs of Slipway processes that died without removing them (kill -9, a crash):
 * their ENV_FILE holds a run's environment, secrets included. Once per process, at its first
 * run. An app node, which outlives the process that started it, needs its run dir only to start:
 * its binds stay when the staging dirs go. Only dirs of this account's own, never a symlink
 * someone else put in the shared temp dir.
 */
export function sweepStaleRunDirs(): void {
  sweepDeadPids(tmpdir(), pidIn(RUN_DIR_NAME), removeRunDir);
}

/**
 * The run's cgroups and run dir (the seccomp filter, an empty ENV_FILE, and as root the staging
 * of `staged`), for a run with these limits. Synchronous on the host's side: cgroupfs and a few
 * small files in the page cache take microseconds, where each hop through libuv's threadpool
 * costs more on a busy machine, and the run's start waits.
 */
export async function prepareChain(
  limits: SandboxSpec['limits'], staged: { dirs: string[]; roots?: boolean }, log: (line: string) => void, kind: RunDirKind = 'run',
): Promise<PreparedChain> {
  const host = sandboxHost();
  if (!swept) sweepStaleRunDirs();
  swept = true;
  for (const notice of host.notices) log(notice);
  let cgroup: RunCgroup | undefined;
  let runDir: string | undefined;
  const release = async (): Promise<void> => {
    await cgroup?.remove();
    const dir = runDir;
    if (!dir) return;
    // Never a recursive delete: the sub-dirs were mount points in the run's own namespace.
    for (const f of RUN_FILES) rmSync(join(dir, f), { force: true });
    for (const d of [...staged.dirs.map((_, i) => join(dir, String(i))), dir]) await removeDir(d);
  };
  try {
    const { diskBytes: _disk, ...cgroupLimits } = limits ?? {};
    if (Object.keys(cgroupLimits).length > 0) {
      cgroup = await createRunCgroup(`${process.pid}-${randomBytes(6).toString('hex')}`, cgroupLimits);
      if (cgroup.skipped.length > 0) log(`sandbox: resource limits skipped (cgroup v1 unavailable): ${cgroup.skipped.join(', ')}`);
    }
    runDir = mkdtempSync(join(tmpdir(), `slipway-${kind}-${process.pid}-`));
    writeFileSync(join(runDir, SECCOMP_FILE), seccompFilter());
    // Slipway's alone (root's, when root): SETUP opens it before dropping to the sandbox account.
    writeFileSync(join(runDir, ENV_FILE), '', { mode: 0o600 });
    if (host.runAs) {
      const dir = runDir;
      // Traversable for the sandbox account, which resolves the staged binds from here.
      chmodSync(dir, 0o711);
      staged.dirs.forEach((_, i) => mkdirSync(join(dir, String(i))));
      writeFileSync(join(dir, STAGING_FSTAB), stagingFstab(staged.dirs, dir));
    }
    return { ...(cgroup ? { cgroup } : {}), runDir, ...(staged.roots ? { stagedRoots: staged.dirs } : {}), release };
  } catch (err) {
    await release();
    throw err;
  }
}

/**
 * Makes the dirs between each staged root and the bound dir below it traversable (0711; see
 * sandbox-command.ts): made by Slipway with umask 077, they would stop the sandbox account.
 */
function traversable(spec: SandboxSpec, roots: string[]): void {
  for (const { dir } of boundDirs(spec)) {
    const root = roots.find((r) => isInside(dir, r));
    if (root === undefined) throw new Error(`sandbox: ${dir} lies under no staged root`);
    for (let d = dirname(dir); d.length >= root.length; d = dirname(d)) chmodSync(d, 0o711);
  }
}

/**
 * How startSandbox prepares: the writable dirs handed over now (default: all), the fd
 * bubblewrap reports the command's end on (sandbox-status.ts; default: none), and a chain
 * prepared ahead (sandbox-ahead.ts; default: one is prepared now, staging the bound dirs).
 */
interface PrepareOptions { ownNow?: string[]; statusFd?: number; chain?: PreparedChain }

/**
 * Everything a run needs on the host, and its command line. For a long-lived process (an app
 * node) spawn `argv` with `env` detached, and call release() once it has been stopped.
 */
export async function prepareSandbox(
  spec: SandboxSpec, log: (line: string) => void = (l) => console.warn(l), options: PrepareOptions = {},
): Promise<PreparedSandbox> {
  const { ownNow = writableDirs(spec), statusFd } = options;
  const host = sandboxHost();
  // Started first: it needs nothing below.
  const owned = own(host, ownNow, cacheDirs(spec));
  owned.catch(() => undefined); // awaited below, never unhandled meanwhile
  const chain = options.chain ?? await prepareChain(spec.limits, { dirs: boundDirs(spec).map(({ dir }) => dir) }, log).catch(async (err: unknown) => {
    await owned.catch(() => undefined);
    throw err;
  });
  try {
    if (host.runAs && chain.stagedRoots) traversable(spec, chain.stagedRoots);
    // Written into the file the chain opens (a chain started ahead has it open already).
    writeFileSync(join(chain.runDir, ENV_FILE), envArgs(spec));
    await owned;
    const command = sandboxCommand(spec, host, {
      cgroupProcs: chain.cgroup?.procsFiles ?? [], runDir: chain.runDir, ...(statusFd === undefined ? {} : { statusFd }),
      ...(chain.stagedRoots ? { stagedRoots: chain.stagedRoots } : {}),
    });
    return { ...command, ...chain };
  } catch (err) {
    await owned.catch(() => undefined);
    await chain.release();
    throw err;
  }
}
