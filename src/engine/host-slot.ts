// Engine processes on one host beyond what its cores can run stand by. Each busy engine process
// costs the host per transition, whatever its number of slots (its own event loop, compiled
// code and caches, its PostgreSQL backends, their context switches): on 2 cores shared with
// PostgreSQL, four busy engines move fewer steps than one (bench: engine). So on PostgreSQL
// an engine claims work only while it holds one of its host's active slots, a session-level
// advisory lock named by host and slot number. Without one it stands by, tries again every
// STANDBY_POLL_MS, and takes over once an active engine stops or dies (its session ends and
// PostgreSQL lets the lock go). A hot spare, as a deployment wants more than one process for.
//
// The slot caps throughput, it guards nothing: two engines active at once for a while (a lost
// session) only cost speed. Every write is still made safe by leases and guarded writes.
import { availableParallelism, hostname } from 'node:os';
import pg from 'pg';

/** The advisory lock class of host slots (the claim lock is 7274930). */
const LOCK_CLASS = 7274931;
const STANDBY_POLL_MS = 500;

/** Engines of one host that claim work at once by default: a core is left to PostgreSQL and the rest. */
export function defaultActiveEngines(cores = availableParallelism()): number {
  return Math.max(1, cores - 1);
}

/** The lock's second key: slot `slot` of `host` (FNV-1a, as a signed 32-bit integer). */
export function slotKey(host: string, slot: number): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(`${host}#${slot}`, 'utf8')) hash = Math.imul(hash ^ byte, 0x01000193);
  return hash | 0;
}

export class HostSlot {
  private client?: pg.Client;
  private retry?: NodeJS.Timeout;
  private stopped = false;
  private held = false;
  private attempting = false;

  constructor(
    private readonly url: string,
    private readonly slots: number,
    /** Called when this engine becomes active or stands by again. */
    private readonly onChange: (active: boolean) => void,
    private readonly host = hostname(),
  ) {}

  get active(): boolean {
    return this.held;
  }

  /** The first attempt, awaited: the engine knows at start whether it is active (told either way). */
  async start(): Promise<void> {
    this.stopped = false;
    await this.attempt();
    if (!this.held) this.onChange(false);
  }

  /** Lets the slot go (the session ends), for a standing-by engine to take. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    this.set(false);
    await client?.end().catch(() => undefined);
  }

  private async attempt(): Promise<void> {
    if (this.stopped || this.attempting) return;
    this.attempting = true;
    try {
      const client = this.client ??= await this.connect();
      for (let slot = 0; slot < this.slots && !this.held; slot++) {
        const { rows } = await client.query<{ got: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS got', [LOCK_CLASS, slotKey(this.host, slot)]);
        if (rows[0]?.got) this.set(true);
      }
      // Stopped meanwhile: whatever was had goes with the session.
      if (this.stopped) this.drop();
      else if (!this.held) this.later();
    } catch {
      // PostgreSQL unreachable (restarting): stand by and try again.
      this.drop();
    } finally {
      this.attempting = false;
    }
  }

  private later(): void {
    clearTimeout(this.retry);
    if (!this.stopped) this.retry = setTimeout(() => void this.attempt(), STANDBY_POLL_MS);
  }

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: this.url });
    client.on('error', () => undefined);
    // A lost session has lost its lock: stand by until the slot (or another) is had again.
    client.on('end', () => {
      if (this.client === client) this.drop();
    });
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    return client;
  }

  /** The session is gone or going: stand by, and try again later. */
  private drop(): void {
    const client = this.client;
    this.client = undefined;
    client?.end().catch(() => undefined);
    this.set(false);
    this.later();
  }

  private set(active: boolean): void {
    if (this.held === active) return;
    this.held = active;
    this.onChange(active);
  }
}
