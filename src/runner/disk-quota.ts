// The disk quota of a run: its workspace and writable paths are measured with `du` and the run
// is stopped once they hold more than the quota. Chosen over a loop-mounted filesystem per run
// (needs root, a loop device and an mkfs per build, and the checkout would have to move into
// it) and over filesystem quotas (not enabled on the machines Slipway runs on). The cost: a
// fast writer may overshoot by what it writes between two measurements (bench: sandbox-start),
// which RLIMIT_FSIZE (sandbox-command.ts) bounds per file. A measurement of a big tree takes
// a while (0.5 s for 24k files), so the pause between two is at least 10× the last one: the
// watch never takes more than ~10 % of one core. `du` never follows symlinks (-P default) and
// stays on one filesystem (-x).
import { execFile } from 'node:child_process';

const MIN_PAUSE_MS = 1000;
const PAUSE_PER_MEASURE = 10;

export interface DiskQuotaWatch { stop(): void }

/** Bytes used under `dirs` (allocated blocks), or undefined when du failed. */
export function diskUsage(dirs: string[]): Promise<number | undefined> {
  return new Promise((resolve) => {
    execFile('du', ['-s', '-x', '-c', '-B1', '--', ...dirs], { maxBuffer: 1 << 20 }, (_err, stdout) => {
      // du exits non-zero when a file vanished meanwhile; its total line is still right.
      const total = /^(\d+)\s+total$/m.exec(stdout ?? '');
      resolve(total?.[1] ? Number(total[1]) : undefined);
    });
  });
}

export function watchDiskQuota(dirs: string[], quotaBytes: number, onExceeded: (usedBytes: number) => void): DiskQuotaWatch {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const measure = async (): Promise<void> => {
    const started = Date.now();
    const used = await diskUsage(dirs);
    if (stopped) return;
    if (used !== undefined && used > quotaBytes) {
      stopped = true;
      onExceeded(used);
      return;
    }
    timer = setTimeout(() => void measure(), Math.max(MIN_PAUSE_MS, PAUSE_PER_MEASURE * (Date.now() - started)));
  };
  timer = setTimeout(() => void measure(), MIN_PAUSE_MS);
  return { stop: () => { stopped = true; clearTimeout(timer); } };
}
