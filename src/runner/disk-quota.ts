// The disk quota of a run: its workspace and writable paths are measured with `du` every
// second and the run is stopped once they hold more than the quota. Chosen over a loop-mounted
// filesystem per run (needs root, a loop device and an mkfs per build, and the checkout would
// have to move into it) and over filesystem quotas (not enabled on the machines Slipway runs
// on); the cost is that a fast writer may overshoot by what it writes in one interval, which
// RLIMIT_FSIZE (sandbox-command.ts) bounds per file. `du` never follows symlinks (-P default)
// and stays on one filesystem (-x).
import { execFile } from 'node:child_process';

const INTERVAL_MS = 1000;

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
  let measuring = false;
  const timer = setInterval(() => {
    if (measuring || stopped) return;
    measuring = true;
    void diskUsage(dirs).then((used) => {
      measuring = false;
      if (stopped || used === undefined || used <= quotaBytes) return;
      stopped = true;
      clearInterval(timer);
      onExceeded(used);
    });
  }, INTERVAL_MS);
  return { stop: () => { stopped = true; clearInterval(timer); } };
}
