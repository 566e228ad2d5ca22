// The disk quota of a run: its workspace and writable paths are measured with `du` and the run
// is stopped once they hold more than the quota. Chosen over a loop-mounted filesystem per run
// (needs root, a loop device and an mkfs per build, and the checkout would have to move into
// it) and over filesystem quotas (not enabled on the machines Slipway runs on). The cost: a
// fast writer may overshoot by what it writes between two measurements (bench: sandbox-start),
// which RLIMIT_FSIZE (sandbox-command.ts) bounds per file; so the next measurement comes sooner
// than the usual second when the dirs grow fast enough to reach the quota before it
// (nextPause). A measurement of a big tree takes a while (0.5 s for 24k files), so the pause
// between two is at least 10× the last one: the watch never takes more than ~10 % of one core.
// `du` never follows symlinks (-P default) and stays on one filesystem (-x).
// One shell per quota runs `du` on request (the meter), where a spawn per measurement would
// fork Slipway every second of every build: a fork copies this process's page tables, 5–15 ms
// of CPU on a VM, taken from the builds beside it, with the event loop blocked meanwhile
// (bench: build-overhead). The meter is launched (launcher.ts): forked ahead, off the way of
// the run, by whoever warms up with METER_LAUNCH.
import type { Readable, Writable } from 'node:stream';
import { launch, type LaunchOptions } from './launcher.ts';

/** The usual pause between two measurements. */
const PAUSE_MS = 1000;
/** The shortest pause, however fast the dirs grow. */
const MIN_PAUSE_MS = 100;
const PAUSE_PER_MEASURE = 10;
/** The meter's shell: one `du` per line read, its output ended by a line of its own. */
const METER = 'while read -r _; do du -s -x -c -B1 -- "$@"; echo .; done';
/** How a meter is launched: asked on stdin, answering on stdout. */
export const METER_LAUNCH: LaunchOptions = { env: { PATH: '/usr/bin:/bin' }, stdio: ['pipe', 'pipe', 'ignore', 'ignore'] };

interface Meter {
  /** Bytes used under its dirs (allocated blocks); undefined when du failed or the meter ended. */
  measure(): Promise<number | undefined>;
  /** False once its shell ended (killed): the watch starts another. */
  alive(): boolean;
  /** Kills it (and a du it runs): resolves once it has ended. */
  end(): Promise<void>;
}

function startMeter(dirs: string[]): Meter {
  const child = launch(['/bin/sh', '-c', METER, 'du', ...dirs], METER_LAUNCH);
  const stdin = child.stdin as Writable;
  const stdout = child.stdout as Readable;
  let partial = '';
  let total: number | undefined;
  let pending: ((used: number | undefined) => void) | undefined;
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  const ended = new Promise<void>((resolve) => { if (alive()) child.once('exit', () => resolve()); else resolve(); });
  const answer = (used: number | undefined): void => { const resolve = pending; pending = undefined; resolve?.(used); };
  stdout.setEncoding('utf8');
  stdout.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      // du exits non-zero when a file vanished meanwhile; its total line is still right.
      const match = /^(\d+)\s+total$/.exec(line);
      if (match) total = Number(match[1]);
      if (line === '.') { answer(total); total = undefined; }
    }
  });
  child.on('error', () => answer(undefined));
  child.on('close', () => answer(undefined));
  stdin.on('error', () => undefined);
  return {
    measure: () => new Promise((resolve) => {
      if (!alive()) return resolve(undefined);
      pending = resolve;
      stdin.write('\n');
    }),
    alive,
    end: () => {
      // Its own process group (launched detached): the du it may be running goes with it.
      if (child.pid !== undefined) { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }
      return ended;
    },
  };
}

/** Bytes used under `dirs` (allocated blocks), or undefined when du failed. */
export async function diskUsage(dirs: string[]): Promise<number | undefined> {
  const meter = startMeter(dirs);
  try {
    return await meter.measure();
  } finally {
    await meter.end();
  }
}

interface Measurement { atMs: number; usedBytes: number }

/**
 * The pause before the next measurement: a second, or half the time the dirs take to reach the
 * quota at the rate they grew since the last measurement when that is sooner (never under
 * MIN_PAUSE_MS); and at least PAUSE_PER_MEASURE times what this measurement took.
 */
export function nextPause({ tookMs, last, now, quotaBytes }: {
  tookMs: number; last: Measurement | undefined; now: Measurement | undefined; quotaBytes: number;
}): number {
  let pause = PAUSE_MS;
  if (last && now && now.usedBytes > last.usedBytes && now.atMs > last.atMs) {
    const bytesPerMs = (now.usedBytes - last.usedBytes) / (now.atMs - last.atMs);
    pause = Math.max(MIN_PAUSE_MS, Math.min(PAUSE_MS, (quotaBytes - now.usedBytes) / bytesPerMs / 2));
  }
  return Math.max(pause, PAUSE_PER_MEASURE * tookMs);
}

/** A run's disk quota: its meter started at once, measuring from watch() on; stop() ends both. */
export interface DiskQuota {
  watch(onExceeded: (usedBytes: number) => void): void;
  /** Resolves once the meter has ended. Idempotent. */
  stop(): Promise<void>;
}

/**
 * The quota of `dirs`. The meter is launched now (forked, if none was forked ahead), so that a
 * caller can start it off the way of what follows (a build's command: a fork beside it slows it
 * down, bench: build-overhead); it measures from watch() on, at once, then as nextPause says.
 */
export function diskQuota(dirs: string[], quotaBytes: number): DiskQuota {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let meter = startMeter(dirs);
  let last: Measurement | undefined;
  const measure = async (onExceeded: (usedBytes: number) => void): Promise<void> => {
    const started = Date.now();
    if (!meter.alive()) meter = startMeter(dirs);
    const used = await meter.measure();
    if (stopped) return;
    if (used !== undefined && used > quotaBytes) {
      void stop();
      onExceeded(used);
      return;
    }
    const now: Measurement | undefined = used === undefined ? undefined : { atMs: Date.now(), usedBytes: used };
    timer = setTimeout(() => void measure(onExceeded), nextPause({ tookMs: Date.now() - started, last, now, quotaBytes }));
    last = now ?? last;
  };
  const stop = (): Promise<void> => { stopped = true; clearTimeout(timer); return meter.end(); };
  return {
    // At once: the measurement the first rate of growth is taken from.
    watch: (onExceeded) => { if (!stopped) void measure(onExceeded); },
    stop,
  };
}
