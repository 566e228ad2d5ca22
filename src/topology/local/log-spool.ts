// Day files from spools. Every node process writes its output with O_APPEND into a spool,
// <logDir>/<stream>.log; it holds that file open for its whole life, so the file cannot be
// renamed per day under it. Instead collect() moves the spool's new complete lines into
// <logDir>/days/<YYYY-MM-DD>/<stream>.log, the UTC day they were collected on (Slipway collects
// every few seconds and before every read, so a line lands on the day it was written, give or
// take that interval). Bounds: a day file stops at `dayCapBytes` (one marker line says so), day
// directories older than `keepDays` are deleted, and a spool is truncated once `spoolMaxBytes`
// of it were collected. A spool that grew while no Slipway ran keeps only its last
// `dayCapBytes` when it is next collected.
import { appendFile, mkdir, open, readdir, readFile, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dayOf, lastDays } from '../driver.ts';

export interface SpoolLimits {
  dayCapBytes: number;
  spoolMaxBytes: number;
  keepDays: number;
}

export const DEFAULT_SPOOL_LIMITS: SpoolLimits = { dayCapBytes: 32 * 1024 * 1024, spoolMaxBytes: 1024 * 1024, keepDays: 7 };

/** A line longer than this without a newline is collected as it is (no waiting forever). */
const MAX_PARTIAL = 64 * 1024;
const READ_CHUNK = 1024 * 1024;
const LOCK_STALE_MS = 30_000;

interface Cursors {
  /** Bytes of each spool already collected. */
  offsets: Record<string, number>;
  /** `<date>/<stream>` day files that reached the cap. */
  capped: string[];
}

export function dayFile(logDir: string, date: string, stream: string): string {
  return join(logDir, 'days', date, `${stream}.log`);
}

async function loadCursors(file: string): Promise<Cursors> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<Cursors>;
    return { offsets: parsed.offsets ?? {}, capped: parsed.capped ?? [] };
  } catch {
    return { offsets: {}, capped: [] };
  }
}

/** Not recursive: a log directory removed with its environment must stay removed. */
async function mkdirOnce(dir: string): Promise<void> {
  await mkdir(dir).catch((e: NodeJS.ErrnoException) => { if (e.code !== 'EEXIST') throw e; });
}

/**
 * Another Slipway process sharing the data directory may collect the same spools: whoever
 * holds the lock collects, the other skips this round (its reads are a moment older).
 */
async function withLock(logDir: string, job: () => Promise<void>): Promise<boolean> {
  const lock = join(logDir, 'days', '.collect.lock');
  await mkdirOnce(join(logDir, 'days'));
  try {
    await writeFile(lock, String(process.pid), { flag: 'wx' });
  } catch {
    const age = Date.now() - (await stat(lock).then((s) => s.mtimeMs, () => Date.now()));
    if (age < LOCK_STALE_MS) return false;
    await rm(lock, { force: true }); // its holder died mid-collection
    return withLock(logDir, job);
  }
  try {
    await job();
  } finally {
    await rm(lock, { force: true });
  }
  return true;
}

async function readRange(path: string, start: number, end: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(end - start);
    const { bytesRead } = await fh.read(buf, 0, buf.length, start);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** The part of `data` that ends a line (all of it past MAX_PARTIAL without a newline). */
function completeLines(data: Buffer): Buffer {
  const nl = data.lastIndexOf(0x0a);
  if (nl >= 0) return data.subarray(0, nl + 1);
  return data.length >= MAX_PARTIAL ? data : Buffer.alloc(0);
}

class Collector {
  constructor(private readonly logDir: string, private readonly cursors: Cursors,
    private readonly now: Date, private readonly limits: SpoolLimits) {}

  /** Appends to today's day file within the cap; past it, one marker line and nothing more. */
  private async append(stream: string, data: Buffer): Promise<void> {
    if (data.length === 0) return;
    const date = dayOf(this.now);
    const key = `${date}/${stream}`;
    if (this.cursors.capped.includes(key)) return;
    const file = dayFile(this.logDir, date, stream);
    await mkdirOnce(join(this.logDir, 'days', date));
    const size = await stat(file).then((s) => s.size, () => 0);
    const room = this.limits.dayCapBytes - size;
    if (data.length <= room) {
      await appendFile(file, data);
      return;
    }
    const fits = data.subarray(0, Math.max(0, room));
    const nl = fits.lastIndexOf(0x0a);
    await appendFile(file, Buffer.concat([fits.subarray(0, nl + 1),
      Buffer.from(`[slipway] this log reached its cap of ${this.limits.dayCapBytes} bytes for ${date}; later lines of the day are dropped\n`)]));
    this.cursors.capped.push(key);
  }

  async collect(stream: string): Promise<void> {
    const spool = join(this.logDir, `${stream}.log`);
    const size = await stat(spool).then((s) => s.size, () => undefined);
    if (size === undefined) return;
    let offset = this.cursors.offsets[stream] ?? 0;
    if (size < offset) offset = 0; // truncated or replaced under us
    if (size - offset > this.limits.dayCapBytes) {
      // Start at the first whole line of the last dayCapBytes.
      const tail = size - this.limits.dayCapBytes;
      const nl = (await readRange(spool, tail - 1, Math.min(size, tail - 1 + MAX_PARTIAL))).indexOf(0x0a);
      const from = nl >= 0 ? tail + nl : tail;
      await this.append(stream, Buffer.from(`[slipway] ${from - offset} bytes written while nothing collected them were skipped\n`));
      offset = from;
    }
    while (offset < size) {
      const lines = completeLines(await readRange(spool, offset, Math.min(size, offset + READ_CHUNK)));
      if (lines.length === 0) break;
      await this.append(stream, lines);
      offset += lines.length;
    }
    // Truncate only when everything was collected and nothing arrived since the stat above:
    // a line written in between would be lost, so the window is kept to these two calls.
    if (offset >= this.limits.spoolMaxBytes && offset === size) {
      const again = await stat(spool).then((s) => s.size, () => -1);
      if (again === size) {
        await truncate(spool, 0);
        offset = 0;
      }
    }
    this.cursors.offsets[stream] = offset;
  }
}

/** Collects the given streams of one environment's log directory (see the top of this file). */
export async function collectSpools(logDir: string, streams: readonly string[], now = new Date(),
  limits: SpoolLimits = DEFAULT_SPOOL_LIMITS): Promise<boolean> {
  return withLock(logDir, async () => {
    const file = join(logDir, 'days', 'cursors.json');
    const cursors = await loadCursors(file);
    const collector = new Collector(logDir, cursors, now, limits);
    for (const stream of streams) await collector.collect(stream);
    const keep = new Set(lastDays(now, limits.keepDays));
    for (const entry of await readdir(join(logDir, 'days'))) {
      if (/^\d{4}-\d{2}-\d{2}$/.test(entry) && !keep.has(entry)) await rm(join(logDir, 'days', entry), { recursive: true, force: true });
    }
    cursors.capped = cursors.capped.filter((key) => keep.has(key.slice(0, 10)));
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(cursors));
    await rename(tmp, file);
  });
}
