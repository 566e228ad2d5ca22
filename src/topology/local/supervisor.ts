// Restarts nodes (app nodes, Varnish, HAProxy) that die while Slipway runs. Liveness is polled through /proc, which works
// the same for processes this Slipway started and for ones it adopted after a restart.
import { isOurProcess, type ProcessRecord } from './proc.ts';

export interface Watched {
  current(): ProcessRecord | undefined;
  restart(): Promise<void>;
}

interface Entry extends Watched {
  attempts: number;
  nextTryAt: number;
  restarting: boolean;
}

const STABLE_MS = 30_000;

export function backoffMs(attempts: number): number {
  return Math.min(250 * 2 ** attempts, 10_000);
}

export class Supervisor {
  private readonly entries = new Map<string, Entry>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly log: (line: string) => void, intervalMs = 500) {
    this.timer = setInterval(() => this.tick(), intervalMs);
    this.timer.unref();
  }

  watch(key: string, watched: Watched): void {
    this.entries.set(key, { ...watched, attempts: 0, nextTryAt: 0, restarting: false });
  }

  /** Called before a deliberate stop, so the stop is not mistaken for a crash. */
  unwatch(key: string): void {
    this.entries.delete(key);
  }

  unwatchPrefix(prefix: string): void {
    for (const key of [...this.entries.keys()]) if (key.startsWith(prefix)) this.entries.delete(key);
  }

  close(): void {
    clearInterval(this.timer);
    this.entries.clear();
  }

  private tick(): void {
    const now = Date.now();
    for (const [key, entry] of this.entries) {
      if (entry.restarting || now < entry.nextTryAt) continue;
      const record = entry.current();
      if (isOurProcess(record)) {
        if (record && now - Date.parse(record.startedAt) > STABLE_MS) entry.attempts = 0;
        continue;
      }
      entry.restarting = true;
      entry.nextTryAt = now + backoffMs(entry.attempts);
      entry.attempts += 1;
      this.log(`supervisor: ${key} is not running, restarting (attempt ${entry.attempts})`);
      entry.restart()
        .catch((err: unknown) => this.log(`supervisor: restart of ${key} failed: ${String(err)}`))
        .finally(() => { entry.restarting = false; });
    }
  }
}
