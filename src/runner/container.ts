// Runs one shell command of repository code in a podman container (runc, rootful, no daemon):
// the container form of runSandboxed (sandbox.ts), with the same result. The rules are the
// sandbox's: an unprivileged uid (the sandbox account), no capabilities, no new privileges,
// memory/pids/CPU limits, a disk quota watched on the writable mounts, a time limit (also
// enforced by conmon, so it holds when Slipway dies), a network that reaches only the listed
// host ports (container-net.ts), exactly the given environment. The container is named and
// labelled, and removed by name when the command ends, times out or is cancelled.
//
// The environment goes in as a file sourced by the entry shell, never as `-e NAME=value`
// (the host's process list would show secrets) nor through podman's own environment (a
// pipeline variable named CONTAINERS_CONF or STORAGE_OPTS would reconfigure podman itself).
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { diskQuota } from './disk-quota.ts';
import { openTestNetwork } from './container-net.ts';
import { shellQuote } from './node-script.ts';
import { DEFAULT_PATH, type SandboxLimits } from './sandbox-command.ts';
import type { SandboxResult } from './sandbox.ts';
import { sandboxHost } from './sandbox-host.ts';
import { podman, podmanEnv } from './podman.ts';

const run = promisify(execFile);

export interface ContainerMount { source: string; target: string; writable: boolean }

export interface ContainerRunOptions {
  /** A podman image reference (local storage). */
  image: string;
  /** podman's containers.conf (podman.ts writeContainersConf). */
  containersConf: string;
  command: string;
  workdir: string;
  /** The complete environment of the command (PATH defaults to the sandbox's). */
  env: Record<string, string>;
  mounts: ContainerMount[];
  limits: SandboxLimits;
  /** Host 127.0.0.1 ports reachable inside as 127.0.0.1:<port>; nothing else of the host. */
  hostPorts: number[];
  labels: Record<string, string>;
  timeoutMs: number;
  signal?: AbortSignal;
  onOutput(chunk: Buffer): void;
  log(line: string): void;
}

export const TEST_CONTAINER_LABEL = 'io.slipway.test';
/** Where the run's own files (the environment) appear inside. */
const RUN_MOUNT = '/run/slipway';
const ENTRY = `. ${RUN_MOUNT}/env && exec /bin/sh -c "$1"`;
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const STOP_RETRY_MS = 300;

/** The environment as a shell file: one `export NAME='value'` per variable. */
export function envFile(env: Record<string, string>, log: (line: string) => void): string {
  const lines: string[] = [];
  for (const [name, value] of Object.entries({ PATH: DEFAULT_PATH, ...env })) {
    if (NAME_RE.test(name)) lines.push(`export ${name}=${shellQuote(value)}`);
    else log(`container: variable ${JSON.stringify(name)} is not a valid environment name; left out`);
  }
  return `${lines.join('\n')}\n`;
}

export function podmanRunArgs(opts: ContainerRunOptions, name: string, uid: number, gid: number, nsPath: string, envDir: string): string[] {
  const limits = opts.limits;
  return [
    'run', '--name', name, '--network', `ns:${nsPath}`,
    ...Object.entries({ ...opts.labels, [TEST_CONTAINER_LABEL]: '1' }).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
    '--user', `${uid}:${gid}`, '--cap-drop', 'all', '--security-opt', 'no-new-privileges',
    // A read-only image: writes go only to the mounts (whose disk use is watched) and to
    // tmpfs (charged to the memory limit), never unbounded into podman's storage.
    '--read-only',
    ...(limits.memoryBytes ? ['--memory', String(limits.memoryBytes), '--memory-swap', String(limits.memoryBytes)] : []),
    ...(limits.pids ? ['--pids-limit', String(limits.pids)] : []),
    ...(limits.cpuShares ? ['--cpu-shares', String(limits.cpuShares)] : []),
    // Chromium needs more than the default 64 MiB of /dev/shm.
    '--shm-size', '256m',
    '--timeout', String(Math.ceil(opts.timeoutMs / 1000) + 5),
    '--tmpfs', '/tmp:rw,nosuid,nodev,size=512m',
    '--volume', `${envDir}:${RUN_MOUNT}:ro`,
    ...opts.mounts.flatMap((m) => ['--volume', `${m.source}:${m.target}:${m.writable ? 'rw' : 'ro'}`]),
    '--workdir', opts.workdir,
    '--entrypoint', '[]',
    opts.image, '/bin/sh', '-c', ENTRY, 'sh', opts.command,
  ];
}

/** Force-removes a container by name (killed first); quiet when it is already gone. */
export async function removeContainer(name: string, containersConf: string): Promise<void> {
  await podman(['rm', '--force', '--time', '0', '--ignore', name], { containersConf });
}

/**
 * Whether the memory limit killed the run. conmon notes an OOM kill as a file `oom` in its
 * working directory (podman's own), where this podman version does not look for it (its
 * State.OOMKilled stays false here); so podman runs in the run's own dir and we look there.
 */
async function oomKilled(name: string, containersConf: string, conmonDir: string): Promise<boolean> {
  if (existsSync(join(conmonDir, 'oom'))) return true;
  const out = await podman(['inspect', '--format', '{{.State.OOMKilled}}', name], { containersConf });
  return out.code === 0 && out.stdout.trim() === 'true';
}

let swept = false;

/**
 * Removes what a Slipway process that died (kill -9) left: its exited test containers and,
 * an hour on, their images (conmon's --timeout has stopped any container still running).
 * Running containers and images in use are never touched. Once per process.
 */
async function sweepLeftovers(containersConf: string): Promise<void> {
  if (swept) return;
  swept = true;
  const exited = await podman(['ps', '--all', '--quiet', '--filter', `label=${TEST_CONTAINER_LABEL}=1`, '--filter', 'status=exited'], { containersConf });
  const ids = exited.stdout.split('\n').filter(Boolean);
  if (ids.length > 0) await podman(['rm', '--force', '--ignore', ...ids], { containersConf });
  await podman(['image', 'prune', '--all', '--force', '--filter', `label=${TEST_CONTAINER_LABEL}=1`, '--filter', 'until=1h'], { containersConf });
}

export async function runContainer(opts: ContainerRunOptions): Promise<SandboxResult> {
  const started = Date.now();
  const none = { exitCode: null, signal: null, timedOut: false, diskQuotaExceeded: false, outOfMemory: false };
  if (opts.signal?.aborted) return { ...none, cancelled: true, durationMs: 0 };
  const host = sandboxHost();
  if (!host.runAs) throw new Error('container: Slipway must run as root to run test containers');
  const { uid, gid } = host.runAs;
  await sweepLeftovers(opts.containersConf);
  const name = `slipway-test-${randomBytes(8).toString('hex')}`;
  const runDir = await mkdtemp(join(tmpdir(), 'slipway-container-'));
  const network = await openTestNetwork(opts.hostPorts, host.runAs).catch(async (err: unknown) => {
    await rm(runDir, { recursive: true, force: true });
    throw err;
  });
  try {
    // runDir: podman's (and conmon's) working dir; envDir inside it: mounted for the command.
    const envDir = join(runDir, 'env');
    await mkdir(envDir);
    await writeFile(join(envDir, 'env'), envFile(opts.env, opts.log), { mode: 0o600 });
    // Readable by the run's group only: set after writing, since the server's umask (077) strips
    // the group bits that writeFile's mode asks for.
    await chmod(join(envDir, 'env'), 0o640);
    await run('chown', ['-R', '-h', `0:${gid}`, '--', envDir]);
    await chmod(envDir, 0o750);
    const writable = opts.mounts.filter((m) => m.writable).map((m) => m.source);
    // -R without -L never follows a symlink in the (hostile) tree; -h changes links themselves.
    if (writable.length > 0) await run('chown', ['-R', '-h', `${uid}:${gid}`, '--', ...writable]);
    const args = podmanRunArgs(opts, name, uid, gid, network.nsPath, envDir);
    const ended = await new Promise<Omit<SandboxResult, 'outOfMemory' | 'durationMs'>>((resolveRun, rejectRun) => {
      const child = spawn('podman', args, { cwd: runDir, env: podmanEnv(opts.containersConf), stdio: ['ignore', 'pipe', 'pipe'] });
      let timedOut = false;
      let cancelled = false;
      let diskQuotaExceeded = false;
      // Until podman has created the container there is nothing to remove: retried until the
      // client ends, so a cancel just after the start still stops the run at once.
      let stopping: NodeJS.Timeout | undefined;
      const stop = (): void => {
        if (stopping) return;
        void removeContainer(name, opts.containersConf);
        stopping = setInterval(() => void removeContainer(name, opts.containersConf), STOP_RETRY_MS);
      };
      const onAbort = (): void => { cancelled = true; stop(); };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      if (opts.signal?.aborted) onAbort();
      const timeout = setTimeout(() => { timedOut = true; stop(); }, opts.timeoutMs);
      const quota = opts.limits.diskBytes && writable.length > 0 ? diskQuota(writable, opts.limits.diskBytes) : undefined;
      quota?.watch((used) => {
        diskQuotaExceeded = true;
        opts.log(`container: disk quota exceeded (${used} of ${opts.limits.diskBytes ?? 0} bytes); the run is stopped`);
        stop();
      });
      child.stdout.on('data', (chunk: Buffer) => opts.onOutput(chunk));
      child.stderr.on('data', (chunk: Buffer) => opts.onOutput(chunk));
      /** Resolves once the quota's meter has ended too. */
      const stopWatching = async (): Promise<void> => {
        clearTimeout(timeout);
        clearInterval(stopping);
        opts.signal?.removeEventListener('abort', onAbort);
        await quota?.stop();
      };
      child.on('error', (err) => { void stopWatching().then(() => rejectRun(err)); });
      child.on('close', (exitCode, signal) => {
        void stopWatching().then(() => resolveRun({ exitCode: timedOut || cancelled ? null : exitCode, signal, timedOut, cancelled, diskQuotaExceeded }));
      });
    });
    return { ...ended, outOfMemory: await oomKilled(name, opts.containersConf, runDir), durationMs: Date.now() - started };
  } finally {
    await removeContainer(name, opts.containersConf);
    network.close();
    await rm(runDir, { recursive: true, force: true });
  }
}
