// Detached node processes: each runs in its own process group with its output in a log file,
// so an environment keeps serving while Slipway is stopped. Identity checks go through /proc
// because a recorded PID may have been reused by an unrelated process after a reboot.
// App nodes run through the sandbox (runner/sandbox.ts): their recorded process is the
// sandbox's outermost one, the app lives in a PID namespace below it in a session of its own,
// so they are stopped by their process tree (and their cgroups), not by their process group.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync, readdirSync } from 'node:fs';
import { readdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { removeCgroups } from '../../runner/cgroup.ts';
import { pidAlive, processStat } from '../../runner/pids.ts';

export interface ProcessRecord {
  pid: number;
  argv: string[];
  cwd: string;
  /** NAME=value put in the process's environment; identifies nodes whose argv is not unique. */
  marker?: string;
  startedAt: string;
  /**
   * The kernel's start time of the process (/proc/<pid>/stat field 22, clock ticks since boot):
   * with the pid, it names the process across its wrappers' execs and never a recycled pid.
   */
  startTicks?: number;
  /** Set for a container node: its podman name (the pid is the container's init process on the host). */
  container?: string;
  /** Set for a sandboxed process: its cgroup dirs and run dir on the host (removed once it is stopped). */
  sandbox?: { cgroups: string[]; runDir?: string };
}

export interface Spawned {
  record: ProcessRecord;
  child: ChildProcess;
}

export interface SpawnOptions {
  cwd: string;
  env: Record<string, string>;
  logFile: string;
  /** An env entry of `env` that identifies this process (see ProcessRecord.marker). */
  marker?: string;
  sandbox?: ProcessRecord['sandbox'];
  /** Frees what the sandbox set up on the host, once the process is stopped (this Slipway only). */
  release?: () => Promise<void>;
}

/** Releases of the sandboxed processes this Slipway started; adopted ones have only their record. */
const releases = new Map<number, () => Promise<void>>();

export function spawnDetached(argv: readonly string[], options: SpawnOptions): Spawned {
  const [command, ...args] = argv;
  if (!command) throw new Error('empty command');
  const fd = openSync(options.logFile, 'a');
  try {
    const child = spawn(command, args, {
      cwd: options.cwd, env: options.env, detached: true, stdio: ['ignore', fd, fd],
    });
    if (child.pid === undefined) throw new Error(`could not start ${command}`);
    child.on('error', () => { /* reported by the liveness checks */ });
    child.unref();
    if (options.release) releases.set(child.pid, options.release);
    return {
      record: {
        pid: child.pid, argv: [command, ...args], cwd: options.cwd,
        ...(options.marker ? { marker: options.marker } : {}), startedAt: new Date().toISOString(),
        ...withStartTicks(child.pid),
        ...(options.sandbox ? { sandbox: options.sandbox } : {}),
      },
      child,
    };
  } finally {
    closeSync(fd);
  }
}

export function withStartTicks(pid: number): { startTicks?: number } {
  const startTicks = processStat(pid)?.startTicks;
  return startTicks === undefined ? {} : { startTicks };
}

/** Does `argv` end with `tail`? (The sandbox's wrappers exec one another: what runs is a tail.) */
function endsWith(argv: readonly string[], tail: readonly string[]): boolean {
  return tail.length > 0 && tail.length <= argv.length && tail.every((a, i) => a === argv[argv.length - tail.length + i]);
}

/**
 * The process is alive and still the one we started: same argv (unique for Varnish and HAProxy,
 * whose argv holds our paths) and, for app nodes, our marker in its environment. A marked
 * process may run a tail of its argv: the sandbox's wrappers (unshare, sh, setpriv) exec the
 * next one. (The working directory is no proof: varnishd changes it.)
 */
export function isOurProcess(record: ProcessRecord | undefined): boolean {
  if (!record) return false;
  if (record.startTicks !== undefined) {
    // Pid and start time name one process, whatever it execs meanwhile (the sandbox's
    // wrappers exec one another; mid-exec its cmdline can be empty for an instant).
    const st = processStat(record.pid);
    return st !== undefined && st.state !== 'Z' && st.state !== 'X' && st.startTicks === record.startTicks;
  }
  // Records from before start times were kept: the command line (and marker) must match.
  // A sandboxed process may be caught in the middle of one of its wrappers' exec (an empty
  // cmdline for an instant): look again before calling it gone.
  for (let attempt = 0; attempt < (record.sandbox ? 3 : 1); attempt++) {
    if (!pidAlive(record.pid)) return false;
    if (matchesRecord(record)) return true;
  }
  return false;
}

function matchesRecord(record: ProcessRecord): boolean {
  try {
    const argv = readFileSync(`/proc/${record.pid}/cmdline`, 'utf8').split('\0').filter((a, i, all) => a !== '' || i < all.length - 1);
    if (!record.marker) return argv.join('\0') === record.argv.join('\0');
    if (!endsWith(record.argv, argv)) return false;
    return readFileSync(`/proc/${record.pid}/environ`, 'utf8').split('\0').includes(record.marker);
  } catch {
    return false;
  }
}

/** Live (non-zombie) processes below `pid`, children before grandchildren. */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const st = processStat(Number(entry));
    if (!st || st.state === 'Z' || st.state === 'X') continue;
    children.set(st.ppid, [...(children.get(st.ppid) ?? []), Number(entry)]);
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift() ?? -1) ?? []) { out.push(child); queue.push(child); }
  }
  return out;
}

/**
 * The sandboxed command's own processes below a sandbox's outermost process: those in a nested
 * PID namespace, except that namespace's init (bubblewrap's, which ends when they end). SIGTERM
 * to bubblewrap itself would not reach them: it dies and its init kills them with SIGKILL.
 */
function sandboxedCommand(pid: number): number[] {
  return descendants(pid).filter((p) => {
    try {
      const nsPids = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1]?.trim().split(/\s+/) ?? [];
      return nsPids.length > 1 && nsPids.at(-1) !== '1';
    } catch {
      return false;
    }
  });
}

/**
 * Live processes with `marker` (NAME=value) in their environment whose parent has none: the
 * outermost processes of marked trees, what is recorded. Only processes whose environment this
 * one may read are seen.
 */
export function markedProcesses(marker: string): number[] {
  const marked = (pid: number) => {
    try {
      return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(marker);
    } catch {
      return false;
    }
  };
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const st = processStat(pid);
    if (st && st.state !== 'Z' && st.state !== 'X' && marked(pid) && !marked(st.ppid)) out.push(pid);
  }
  return out;
}

/** Live (non-zombie) members of a process group. */
export function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const st = processStat(Number(entry));
    if (st && st.pgrp === pgid && st.state !== 'Z' && st.state !== 'X') out.push(Number(entry));
  }
  return out;
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try { process.kill(-pgid, signal); } catch { /* already gone */ }
}

/**
 * SIGTERM to the whole group (a `sh -c` wrapper and the server it started), then wait until
 * every member has exited; SIGKILL what is left after `graceMs`.
 */
export async function stopProcess(record: ProcessRecord | undefined, graceMs: number): Promise<void> {
  if (record?.sandbox) {
    if (isOurProcess(record)) await stopSandboxed(record, graceMs);
    const release = releases.get(record.pid);
    releases.delete(record.pid);
    await (release ? release() : releaseRecorded(record.sandbox));
    return;
  }
  if (!record || !isOurProcess(record)) return;
  const pgid = record.pid;
  signalGroup(pgid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (groupMembers(pgid).length > 0) {
    if (Date.now() > deadline) {
      signalGroup(pgid, 'SIGKILL');
      await sleep(50);
      if (groupMembers(pgid).length === 0) return;
      if (Date.now() > deadline + 5000) throw new Error(`process group ${pgid} survived SIGKILL`);
      continue;
    }
    await sleep(25);
  }
}

/**
 * SIGTERM to the sandboxed command's processes (a graceful stop, whatever `exec` its start line
 * did), then wait until the whole tree has exited; SIGKILL the tree after `graceMs`: the PID
 * namespace's init going down takes everything inside with it.
 */
async function stopSandboxed(record: ProcessRecord, graceMs: number): Promise<void> {
  for (const pid of sandboxedCommand(record.pid)) { try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ } }
  const deadline = Date.now() + graceMs;
  while (pidAlive(record.pid) || descendants(record.pid).length > 0) {
    if (Date.now() > deadline) {
      for (const pid of [...descendants(record.pid).reverse(), record.pid]) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
      if (Date.now() > deadline + 5000) throw new Error(`sandboxed process ${record.pid} survived SIGKILL`);
    }
    await sleep(25);
  }
}

/** What a sandboxed process of an earlier Slipway left on the host: its cgroups, its run dir. */
async function releaseRecorded(sandbox: NonNullable<ProcessRecord['sandbox']>): Promise<void> {
  await removeCgroups(sandbox.cgroups);
  const dir = sandbox.runDir;
  if (!dir) return;
  // Never a recursive delete: the sub-dirs were mount points in the run's own namespace.
  for (const entry of await readdir(dir).catch(() => [])) {
    const path = join(dir, entry);
    await rmdir(path).catch(() => rm(path, { force: true })).catch(() => undefined);
  }
  await rmdir(dir).catch(() => undefined);
}
