// Runs one shell command in a bubblewrap sandbox: the host is read-only, only the workspace
// (and explicitly listed scratch dirs) are writable, Slipway's data directory and other runs'
// workspaces are masked by empty tmpfs mounts, the environment is exactly what the caller
// passes, the network is shared (package registries must be reachable), and cgroup v1 limits
// apply where the machine allows. Cancel and timeout kill the whole process tree: the run has
// its own process group (detached), bwrap's PID namespace dies with its init, and whatever is
// left in the run's cgroups is killed by pid.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { createRunCgroup, type ResourceLimits, type RunCgroup } from './cgroup.ts';

export interface SandboxOptions {
  command: string;
  /** Writable working directory; the command starts here. */
  workspace: string;
  /** The complete environment of the command (PATH included; nothing is inherited). */
  env: Record<string, string>;
  timeoutMs: number;
  signal?: AbortSignal;
  /** stdout and stderr, interleaved in the order written, as it arrives. */
  onOutput(chunk: Buffer): void;
  /** Directories to hide (Slipway's data dir, other runs' workspaces); the workspace stays visible. */
  hidePaths?: string[];
  /** Extra writable directories (a private HOME/TMPDIR next to the workspace). */
  writablePaths?: string[];
  limits?: ResourceLimits;
  /** Network of the run: 'none' (loopback only), 'outbound' (internet through user-mode networking, never the host's loopback); hostPorts: host 127.0.0.1 ports reachable inside as 127.0.0.1:<port>; publishPorts: ports the command listens on inside, reachable from the host's 127.0.0.1:<port>. */
  network?: { outbound: boolean; hostPorts?: number[]; publishPorts?: number[] };
  /** Notices about the sandbox itself (missing bwrap, skipped limits). Default: console.warn. */
  log?(line: string): void;
}

export interface SandboxResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  cancelled: boolean;
  durationMs: number;
}

export const BWRAP = '/usr/bin/bwrap';
/** Time SIGTERM gets before SIGKILL; well inside the 2 s a cancel may take. */
const TERM_GRACE_MS = 400;
/** After the process exits, how long its output pipe may stay open (held by an escaped child). */
const DRAIN_MS = 1500;
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

let bwrapAvailable: boolean | undefined;
function hasBwrap(): boolean {
  bwrapAvailable ??= existsSync(BWRAP);
  return bwrapAvailable;
}

function isInside(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

/** The bwrap argument list (pure: unit-testable). Order matters: bwrap applies mounts in order. */
export function bwrapArgs(opts: Pick<SandboxOptions, 'workspace' | 'env' | 'hidePaths' | 'writablePaths'>, command: string): string[] {
  const workspace = resolve(opts.workspace);
  const args = [
    '--unshare-all', '--share-net', '--die-with-parent',
    '--ro-bind', '/', '/',
    '--tmpfs', '/tmp',
    '--proc', '/proc',
    '--dev', '/dev',
  ];
  // Hide first, then bind the workspace back in: a workspace under the data dir stays visible.
  for (const hidden of (opts.hidePaths ?? []).map((p) => resolve(p))) {
    if (hidden === '/' || isInside(hidden, '/tmp') || !existsSync(hidden)) continue;
    args.push('--tmpfs', hidden);
  }
  for (const dir of [workspace, ...(opts.writablePaths ?? []).map((p) => resolve(p))]) {
    args.push('--bind', dir, dir);
  }
  args.push('--chdir', workspace, '--clearenv');
  const env = { PATH: DEFAULT_PATH, ...opts.env };
  for (const [name, value] of Object.entries(env)) args.push('--setenv', name, value);
  args.push('--', '/bin/sh', '-c', command);
  return args;
}

/**
 * The wrapper shell joins the cgroups, merges stderr into stdout (one pipe keeps the order)
 * and execs the real command. Arguments: <n> <procs files...> <argv...>.
 */
const WRAPPER = 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n-1)); done; exec "$@" 2>&1';

export async function runSandboxed(opts: SandboxOptions): Promise<SandboxResult> {
  const log = opts.log ?? ((line: string) => console.warn(line));
  const started = Date.now();
  if (opts.signal?.aborted) {
    return { exitCode: null, signal: null, timedOut: false, cancelled: true, durationMs: 0 };
  }

  let cgroup: RunCgroup | undefined;
  if (opts.limits && Object.keys(opts.limits).length > 0) {
    cgroup = await createRunCgroup(`${process.pid}-${randomBytes(6).toString('hex')}`, opts.limits);
    if (cgroup.skipped.length > 0) log(`sandbox: resource limits skipped (cgroup v1 unavailable): ${cgroup.skipped.join(', ')}`);
  }

  let argv: string[];
  let spawnEnv: Record<string, string>;
  if (hasBwrap()) {
    argv = [BWRAP, ...bwrapArgs(opts, opts.command)];
    spawnEnv = { PATH: DEFAULT_PATH };
  } else {
    log(`!!! sandbox: ${BWRAP} not found — running WITHOUT isolation (install bubblewrap) !!!`);
    argv = ['/bin/sh', '-c', opts.command];
    spawnEnv = { PATH: DEFAULT_PATH, ...opts.env };
  }
  const procs = cgroup?.procsFiles ?? [];

  try {
    return await new Promise<SandboxResult>((resolveRun, rejectRun) => {
      const child = spawn('/bin/sh', ['-c', WRAPPER, 'sandbox', String(procs.length), ...procs, ...argv], {
        cwd: opts.workspace,
        env: spawnEnv,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let timedOut = false;
      let cancelled = false;
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
      const timeout = setTimeout(() => { timedOut = true; killTree(); }, opts.timeoutMs);

      child.stdout.on('data', (chunk: Buffer) => opts.onOutput(chunk));
      // Only the wrapper's own errors arrive here (the command's stderr is merged into stdout).
      child.stderr.on('data', (chunk: Buffer) => opts.onOutput(chunk));
      let closed = false;
      child.once('close', () => { closed = true; });
      child.on('error', (err) => {
        clearTimeout(timeout);
        opts.signal?.removeEventListener('abort', onAbort);
        rejectRun(err);
      });
      child.on('exit', (exitCode, signal) => {
        clearTimeout(timeout);
        opts.signal?.removeEventListener('abort', onAbort);
        // Make sure nothing of the run survives its main process (a background job left behind).
        if (child.pid !== undefined) { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }
        const finish = (): void => {
          clearTimeout(drain);
          if (killTimer) clearTimeout(killTimer);
          resolveRun({ exitCode, signal, timedOut, cancelled, durationMs: Date.now() - started });
        };
        const drain = setTimeout(() => { child.stdout.destroy(); child.stderr.destroy(); finish(); }, DRAIN_MS);
        if (closed) finish();
        else child.once('close', finish);
      });
    });
  } finally {
    await cgroup?.remove();
  }
}
