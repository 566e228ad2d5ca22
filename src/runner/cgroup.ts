// Per-run resource limits through cgroup v1 (this machine: hybrid hierarchy, root, no systemd).
// A run gets /sys/fs/cgroup/{memory,pids,cpu}/slipway/<id>; the sandbox's wrapper shell writes
// its own pid into each cgroup.procs before it execs bubblewrap, so everything the build starts
// is accounted and can be found again to be killed. Where a controller is missing or not
// writable the limit is skipped (and the caller logs it): limits are protection, not function.
// cgroupfs lives in the kernel: its calls take microseconds and never wait for a disk, so they
// are made synchronously (a hop through libuv's threadpool costs more than the call, and a
// build's start waits for them; bench: build-overhead).
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { readdir, rmdir } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { pidAlive } from './pids.ts';

export interface ResourceLimits {
  memoryBytes?: number;
  pids?: number;
  cpuShares?: number;
}

export const CGROUP_ROOT = '/sys/fs/cgroup';

interface ControllerSetting { controller: 'memory' | 'pids' | 'cpu'; file: string; value: number }

export interface RunCgroup {
  /** The cgroup.procs files the wrapper joins. */
  procsFiles: string[];
  /** Limits that could not be applied, for the log. */
  skipped: string[];
  /** Pids still in any of the run's cgroups. */
  pids(): Promise<number[]>;
  /** How many processes the kernel killed for the memory limit (0 without a memory cgroup). */
  oomKills(): Promise<number>;
  /** Kills everything left and removes the cgroups. */
  remove(): Promise<void>;
}

function settingsFor(limits: ResourceLimits): ControllerSetting[] {
  const settings: ControllerSetting[] = [];
  if (limits.memoryBytes !== undefined) settings.push({ controller: 'memory', file: 'memory.limit_in_bytes', value: limits.memoryBytes });
  if (limits.pids !== undefined) settings.push({ controller: 'pids', file: 'pids.max', value: limits.pids });
  if (limits.cpuShares !== undefined) settings.push({ controller: 'cpu', file: 'cpu.shares', value: limits.cpuShares });
  return settings;
}

/**
 * Removes empty run cgroups left by a Slipway process that died (kill -9) before removing them;
 * ids start with the creating process's pid. Non-empty ones are left alone (a detached node).
 */
async function sweepStale(parent: string): Promise<void> {
  for (const name of await readdir(parent).catch(() => [] as string[])) {
    const pid = Number(/^(\d+)-/.exec(name)?.[1]);
    if (!pid || pidAlive(pid)) continue;
    await rmdir(join(parent, name)).catch(() => undefined);
  }
}

let swept = false;

export async function createRunCgroup(id: string, limits: ResourceLimits, root = CGROUP_ROOT): Promise<RunCgroup> {
  if (!swept) {
    swept = true;
    for (const controller of ['memory', 'pids', 'cpu']) await sweepStale(join(root, controller, 'slipway'));
  }
  const dirs: string[] = [];
  const skipped: string[] = [];
  for (const setting of settingsFor(limits)) {
    const dir = join(root, setting.controller, 'slipway', id);
    try {
      mkdirSync(dir, { recursive: true });
      dirs.push(dir);
      writeFileSync(join(dir, setting.file), String(setting.value));
    } catch (err) {
      skipped.push(`${setting.controller} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
      if (dirs.at(-1) === dir) {
        dirs.pop();
        try { rmdirSync(dir); } catch { /* left for the sweep */ }
      }
    }
  }

  const oomKills = async (): Promise<number> => {
    const memory = dirs.find((d) => d.startsWith(join(root, 'memory') + sep));
    if (!memory) return 0;
    const text = readCgroupFile(join(memory, 'memory.oom_control'));
    return Number(/^oom_kill (\d+)$/m.exec(text)?.[1] ?? 0);
  };

  return {
    procsFiles: dirs.map((d) => join(d, 'cgroup.procs')), skipped, oomKills,
    pids: () => cgroupPids(dirs),
    remove: () => removeCgroups(dirs),
  };
}

/** A cgroup file's text; '' when it (or its cgroup) is gone. */
function readCgroupFile(path: string): string {
  try { return readFileSync(path, 'utf8'); } catch { return ''; }
}

/** Pids still in any of these cgroups. */
export async function cgroupPids(dirs: readonly string[]): Promise<number[]> {
  const all = new Set<number>();
  for (const dir of dirs) {
    const text = readCgroupFile(join(dir, 'cgroup.procs'));
    for (const line of text.split('\n')) if (line.trim()) all.add(Number(line.trim()));
  }
  return [...all];
}

/**
 * Kills everything left in these cgroups and removes them. Also for the cgroups of a detached
 * run that a previous Slipway process created (recorded by their cgroup.procs files).
 */
export async function removeCgroups(dirs: readonly string[]): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    for (const pid of await cgroupPids(dirs)) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    }
    let left = 0;
    for (const dir of dirs) {
      try { rmdirSync(dir); } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') left++;
      }
    }
    if (left === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
