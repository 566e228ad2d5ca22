// Processes of this machine by pid, and what dead ones left behind: a Slipway process killed
// mid-write (kill -9, a crash) leaves the temp files and dirs it names after its pid. The next
// process to write there removes those of dead processes; a live one's are still being written.
import { lstatSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** From /proc/<pid>/stat: its state letter and more; undefined when there is no such process. */
export function processStat(pid: number): { state: string; ppid: number; pgrp: number; startTicks: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: parse after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0] ?? '?', ppid: Number(rest[1]), pgrp: Number(rest[2]), startTicks: Number(rest[19]) };
  } catch {
    return undefined;
  }
}

/** Alive = exists and is not a zombie (a zombie runs no more; PID 1 here does not reap orphans). */
export function pidAlive(pid: number): boolean {
  const st = processStat(pid);
  return st !== undefined && st.state !== 'Z' && st.state !== 'X';
}

/**
 * Removes the entries of `dir` whose name `pidOf` reads the pid of a dead process from (never
 * this process's), with `remove` (by default: recursively; rm never follows a symlink). Only
 * entries of this account's own, and never a symlink: `dir` may be shared (/tmp), and what
 * another account put there is not ours to remove. Returns the paths removed.
 */
export function sweepDeadPids(
  dir: string, pidOf: (name: string) => number | undefined,
  remove: (path: string) => void = (path) => rmSync(path, { recursive: true, force: true }),
): string[] {
  let names: string[];
  try { names = readdirSync(dir); } catch { return []; /* none yet */ }
  const removed: string[] = [];
  for (const name of names) {
    const pid = pidOf(name);
    if (!pid || pid === process.pid || pidAlive(pid)) continue;
    const path = join(dir, name);
    const info = lstatSync(path, { throwIfNoEntry: false });
    if (!info || info.isSymbolicLink() || info.uid !== process.getuid?.()) continue;
    remove(path);
    removed.push(path);
  }
  return removed;
}

/** The pid in `name` as `pattern`'s first group reads it (`pidOf` for sweepDeadPids). */
export const pidIn = (pattern: RegExp) => (name: string): number | undefined => {
  const pid = Number(pattern.exec(name)?.[1]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
};
