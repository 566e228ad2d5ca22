// What a sandboxed run leaves on the host, for tests that check nothing of it survives: its
// processes (found by a marker in their command line or environment: pasta's and bubblewrap's
// arguments name the workspace, the command inside has the run's HOME) and this process's run
// cgroups (cgroup.ts names them <pid>-<random>).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CGROUP_ROOT } from '../../src/runner/cgroup.ts';

/** "<pid> <command line>" of every process whose command line or environment mentions `marker`. */
export function processesMentioning(marker: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid)) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
      if (cmdline.includes(marker) || environ.includes(marker)) found.push(`${pid} ${cmdline}`);
    } catch { /* gone meanwhile */ }
  }
  return found;
}

/** The run cgroups this test process still has (any controller). */
export function ownRunCgroups(): string[] {
  return ['memory', 'pids', 'cpu'].flatMap((controller) => {
    const parent = join(CGROUP_ROOT, controller, 'slipway');
    try {
      return readdirSync(parent).filter((name) => name.startsWith(`${process.pid}-`)).map((name) => join(parent, name));
    } catch {
      return [];
    }
  });
}
