// A lock file between processes of one machine: created with O_EXCL, holding the owner's pid.
// A waiter polls; a lock whose owner died (kill -9, power cut) is taken over. The take-over has
// a tiny race (two waiters may both see the dead owner): callers must stay correct when two
// holders overlap, which content-addressed writes with atomic renames do. The lock only saves
// the duplicated work.
import { open, readFile, rm, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { pidAlive } from '../runner/pids.ts';

const POLL_MS = 200;
/** A lock file still empty after this long belongs to a process that died while creating it. */
const EMPTY_GRACE_MS = 10_000;

async function tryAcquire(path: string): Promise<boolean> {
  try {
    const handle = await open(path, 'wx', 0o644);
    try { await handle.writeFile(`${process.pid}\n`); } finally { await handle.close(); }
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

async function ownerIsGone(path: string): Promise<boolean> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) return false; // released meanwhile: just try again
  const pid = Number.parseInt(text, 10);
  if (Number.isInteger(pid) && pid > 0) return !pidAlive(pid);
  const info = await stat(path).catch(() => undefined);
  return info !== undefined && Date.now() - info.mtimeMs > EMPTY_GRACE_MS;
}

/** Runs fn while holding the lock file at `path` (waiting for it as long as it takes). */
export async function withFileLock<T>(path: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  while (!(await tryAcquire(path))) {
    signal?.throwIfAborted();
    if (await ownerIsGone(path)) {
      await rm(path, { force: true });
      continue;
    }
    await sleep(POLL_MS);
  }
  try {
    return await fn();
  } finally {
    await rm(path, { force: true });
  }
}
