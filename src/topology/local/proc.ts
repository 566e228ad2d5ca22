// Detached node processes: each runs in its own process group with its output in a log file,
// so an environment keeps serving while Slipway is stopped. Identity checks go through /proc
// because a recorded PID may have been reused by an unrelated process after a reboot.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync, readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ProcessRecord {
  pid: number;
  argv: string[];
  cwd: string;
  /** NAME=value put in the process's environment; identifies nodes whose argv is not unique. */
  marker?: string;
  startedAt: string;
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
}

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
    return {
      record: {
        pid: child.pid, argv: [command, ...args], cwd: options.cwd,
        ...(options.marker ? { marker: options.marker } : {}), startedAt: new Date().toISOString(),
      },
      child,
    };
  } finally {
    closeSync(fd);
  }
}

/** State letter from /proc/<pid>/stat, undefined when there is no such process. */
function procState(pid: number): { state: string; pgrp: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: parse after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0] ?? '?', pgrp: Number(rest[2]) };
  } catch {
    return undefined;
  }
}

/** Alive = exists and is not a zombie (PID 1 here does not reap orphans). */
export function pidAlive(pid: number): boolean {
  const st = procState(pid);
  return st !== undefined && st.state !== 'Z' && st.state !== 'X';
}

/**
 * The process is alive and still the one we started: same argv (unique for Varnish and HAProxy,
 * whose argv holds our paths) and, for app nodes, our marker in its environment. (The working
 * directory is no proof: varnishd changes it.)
 */
export function isOurProcess(record: ProcessRecord | undefined): boolean {
  if (!record || !pidAlive(record.pid)) return false;
  try {
    const argv = readFileSync(`/proc/${record.pid}/cmdline`, 'utf8').split('\0').filter((a, i, all) => a !== '' || i < all.length - 1);
    if (argv.join('\0') !== record.argv.join('\0')) return false;
    if (!record.marker) return true;
    return readFileSync(`/proc/${record.pid}/environ`, 'utf8').split('\0').includes(record.marker);
  } catch {
    return false;
  }
}

/** Live (non-zombie) members of a process group. */
export function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const st = procState(Number(entry));
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
