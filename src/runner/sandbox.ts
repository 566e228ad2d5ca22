// Runs one shell command of repository code in the sandbox (sandbox-command.ts says what the
// command line isolates and how). This module owns the run's lifecycle on the host: the cgroups,
// the ownership of the writable dirs (the unprivileged account must write them), the run dir
// (seccomp filter, staging mount points), the disk quota watch, the memory-limit verdict, and
// killing everything when the command ends, is cancelled or times out: the run has its own
// process group (detached), bwrap's PID namespace dies with its init, and whatever is left in
// the run's cgroups is killed by pid.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createRunCgroup, type RunCgroup } from './cgroup.ts';
import { watchDiskQuota } from './disk-quota.ts';
import {
  SECCOMP_FILE, STAGING_FSTAB, boundDirs, sandboxCommand, stagingFstab, writableDirs, type SandboxCommand, type SandboxSpec,
} from './sandbox-command.ts';
import { seccompFilter } from './seccomp.ts';
import { sandboxHost } from './sandbox-host.ts';

export { bwrapArgs, sandboxCommand, stagingFstab, type NetworkOptions, type SandboxLimits, type SandboxSpec } from './sandbox-command.ts';
export { BWRAP } from './sandbox-host.ts';

const run = promisify(execFile);

export interface SandboxOptions extends SandboxSpec {
  timeoutMs: number;
  signal?: AbortSignal;
  /** stdout and stderr, interleaved in the order written, as it arrives. */
  onOutput(chunk: Buffer): void;
  /** Notices about the sandbox itself (skipped limits, fallbacks). Default: console.warn. */
  log?(line: string): void;
}

export interface SandboxResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  cancelled: boolean;
  /** The workspace and writable paths outgrew limits.diskBytes; the run was killed. */
  diskQuotaExceeded: boolean;
  /** A process of the run was killed by the kernel for the memory limit. */
  outOfMemory: boolean;
  durationMs: number;
}

/** Time SIGTERM gets before SIGKILL; well inside the 2 s a cancel may take. */
const TERM_GRACE_MS = 400;
/** After the process exits, how long its output pipe may stay open (held by an escaped child). */
const DRAIN_MS = 1500;

/** rmdir, retried while the run's mount namespace (holding the staged binds) winds down. */
async function removeDir(dir: string): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      await rmdir(dir);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

export interface PreparedSandbox extends SandboxCommand {
  cgroup?: RunCgroup;
  /** The run's own dir on the host (see sandbox-command.ts), for a detached run's record. */
  runDir: string;
  /** Kills whatever is left in the run's cgroups and removes them and the run dir. */
  release(): Promise<void>;
}

/**
 * Everything a run needs on the host, and its command line. For a long-lived process (an app
 * node) spawn `argv` with `env` detached, and call release() once it has been stopped.
 */
export async function prepareSandbox(spec: SandboxSpec, log: (line: string) => void = (l) => console.warn(l)): Promise<PreparedSandbox> {
  const host = sandboxHost();
  for (const notice of host.notices) log(notice);
  let cgroup: RunCgroup | undefined;
  let runDir: string | undefined;
  const release = async (): Promise<void> => {
    await cgroup?.remove();
    const dir = runDir;
    if (!dir) return;
    // Never a recursive delete: the sub-dirs were mount points in the run's own namespace.
    await Promise.all([SECCOMP_FILE, STAGING_FSTAB].map((f) => rm(join(dir, f), { force: true })));
    const staged = boundDirs(spec).map((_, i) => join(dir, String(i)));
    for (const d of [...staged, dir]) await removeDir(d);
  };
  // The unprivileged account must own the writable dirs; -R without -L never follows a symlink
  // in the (hostile) tree, -h changes links themselves. Started first: it needs nothing below.
  const owned = host.runAs ? run('chown', ['-R', '-h', `${host.runAs.uid}:${host.runAs.gid}`, '--', ...writableDirs(spec)]) : undefined;
  owned?.catch(() => undefined); // awaited below, never unhandled meanwhile
  try {
    const { diskBytes: _disk, ...cgroupLimits } = spec.limits ?? {};
    if (Object.keys(cgroupLimits).length > 0) {
      cgroup = await createRunCgroup(`${process.pid}-${randomBytes(6).toString('hex')}`, cgroupLimits);
      if (cgroup.skipped.length > 0) log(`sandbox: resource limits skipped (cgroup v1 unavailable): ${cgroup.skipped.join(', ')}`);
    }
    runDir = await mkdtemp(join(tmpdir(), 'slipway-run-'));
    await writeFile(join(runDir, SECCOMP_FILE), seccompFilter());
    if (host.runAs) {
      const dir = runDir;
      // Traversable for the sandbox account, which resolves the staged binds from here.
      await chmod(dir, 0o711);
      await Promise.all(boundDirs(spec).map((_, i) => mkdir(join(dir, String(i)))));
      await writeFile(join(dir, STAGING_FSTAB), stagingFstab(spec, dir));
    }
    await owned;
    const command = sandboxCommand(spec, host, { cgroupProcs: cgroup?.procsFiles ?? [], runDir });
    return { ...command, ...(cgroup ? { cgroup } : {}), runDir, release };
  } catch (err) {
    await release();
    throw err;
  }
}

export async function runSandboxed(opts: SandboxOptions): Promise<SandboxResult> {
  const log = opts.log ?? ((line: string) => console.warn(line));
  const started = Date.now();
  if (opts.signal?.aborted) {
    return { exitCode: null, signal: null, timedOut: false, cancelled: true, diskQuotaExceeded: false, outOfMemory: false, durationMs: 0 };
  }
  const prepared = await prepareSandbox(opts, log);
  const { argv, env, cgroup } = prepared;
  try {
    const ended = await new Promise<Omit<SandboxResult, 'outOfMemory'>>((resolveRun, rejectRun) => {
      const child = spawn(argv[0] ?? '/bin/sh', argv.slice(1), {
        cwd: '/',
        env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let timedOut = false;
      let cancelled = false;
      let diskQuotaExceeded = false;
      let killTimer: NodeJS.Timeout | undefined;

      const killTree = (): void => {
        if (killTimer || child.pid === undefined) return;
        const pgid = child.pid;
        try { process.kill(-pgid, 'SIGTERM'); } catch { /* gone */ }
        killTimer = setTimeout(() => {
          try { process.kill(-pgid, 'SIGKILL'); } catch { /* gone */ }
          void cgroup?.pids().then((pids) => {
            for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
          });
        }, TERM_GRACE_MS);
      };
      const onAbort = (): void => { cancelled = true; killTree(); };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      // Cancelled while the run was being prepared (cgroups, chown): stop it at once.
      if (opts.signal?.aborted) onAbort();
      const timeout = setTimeout(() => { timedOut = true; killTree(); }, opts.timeoutMs);
      const quota = opts.limits?.diskBytes
        ? watchDiskQuota(writableDirs(opts), opts.limits.diskBytes, (used) => {
          diskQuotaExceeded = true;
          log(`sandbox: disk quota exceeded (${used} of ${opts.limits?.diskBytes ?? 0} bytes); the run is stopped`);
          killTree();
        })
        : undefined;

      child.stdout.on('data', (chunk: Buffer) => opts.onOutput(chunk));
      // Only the wrapper's own errors arrive here (the command's stderr is merged into stdout).
      child.stderr.on('data', (chunk: Buffer) => opts.onOutput(chunk));
      let closed = false;
      child.once('close', () => { closed = true; });
      const stopWatching = (): void => {
        clearTimeout(timeout);
        quota?.stop();
        opts.signal?.removeEventListener('abort', onAbort);
      };
      child.on('error', (err) => { stopWatching(); rejectRun(err); });
      child.on('exit', (exitCode, signal) => {
        stopWatching();
        // Make sure nothing of the run survives its main process (a background job left behind).
        if (child.pid !== undefined) { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }
        const finish = (): void => {
          clearTimeout(drain);
          if (killTimer) clearTimeout(killTimer);
          resolveRun({ exitCode, signal, timedOut, cancelled, diskQuotaExceeded, durationMs: Date.now() - started });
        };
        const drain = setTimeout(() => { child.stdout.destroy(); child.stderr.destroy(); finish(); }, DRAIN_MS);
        if (closed) finish();
        else child.once('close', finish);
      });
    });
    return { ...ended, outOfMemory: (await cgroup?.oomKills() ?? 0) > 0 };
  } finally {
    await prepared.release();
  }
}
