// Committed changes, pushed: whoever commits a change that makes work runnable (or
// cancels it) tells the engines at once, in-process through an emitter and, on PostgreSQL,
// across processes through LISTEN/NOTIFY. The same notification carries the transaction's
// events, so the UI's live stream in one process sees what an engine in another one did.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import pg from 'pg';
import { sql, type Kysely } from 'kysely';
import type { SlipwayEvent } from '../events/bus.ts';
import type { Db } from '../store/db.ts';
import type { Database } from '../store/schema.ts';

export const CHANNEL = 'slipway';
/** Events for views only (sent after commit, see afterCommit): heard only by processes that want them. */
const EVENTS_CHANNEL = 'slipway_events';
/** PostgreSQL refuses payloads of 8000 bytes or more; events are dropped (wake-ups never are). */
const MAX_PAYLOAD = 7900;
/**
 * How long committed events gather before they go out to other processes. Every notification
 * wakes every listening process (and its PostgreSQL backend): one per transition would cost
 * each engine as much as the transitions of all the others. Views can wait this long.
 */
const EVENTS_WINDOW_MS = 10;

export type WakeReason = { kind: 'work' } | { kind: 'cancel'; executionId: string };

/** What one committed transaction sends out: the sum of its Announcements, its events stamped. */
export interface Broadcast {
  wakes: WakeReason[];
  events: SlipwayEvent[];
}

export class Wakeup {
  private readonly local = new EventEmitter();
  /** Tags this process's notifications: it has already told its own listeners after commit. */
  private readonly sender = randomUUID().slice(0, 8);
  private listener?: pg.Client;
  private stopping = false;
  private retry?: NodeJS.Timeout;
  /** Committed events waiting for the next after-commit notification. */
  private unsent: SlipwayEvent[] = [];
  private sendTimer?: NodeJS.Timeout;
  /** This process has views (bus subscribers) that want other processes' events. */
  private eventsWanted = false;
  /** Wake-ups are wanted: false only for an engine standing by (host-slot.ts). */
  private wakesWanted = true;

  constructor(private readonly db: Db) {
    this.local.setMaxListeners(0);
  }

  /** Starts listening for other processes' notifications (PostgreSQL only). */
  async start(): Promise<void> {
    if (this.db.dialect !== 'postgres' || !this.db.postgresUrl) return;
    this.stopping = false;
    this.listener = await this.listen(this.db.postgresUrl);
  }

  /**
   * From now on, hear the events other processes send for views. A process without views
   * (an engine alone) never does: each notification would wake it, for nothing.
   */
  async wantEvents(): Promise<void> {
    if (this.eventsWanted) return;
    this.eventsWanted = true;
    await this.listener?.query(`LISTEN ${EVENTS_CHANNEL}; LISTEN ${CHANNEL}`).catch(() => undefined);
  }

  /**
   * Whether this process's engine wants wake-ups: an engine standing by does not, and without
   * views its process then hears nothing (each notification would wake it, for nothing). Its
   * engine looks for work itself once active again, after this has resolved.
   */
  async wantWakes(wanted: boolean): Promise<void> {
    if (this.wakesWanted === wanted) return;
    this.wakesWanted = wanted;
    if (this.eventsWanted) return; // the views hear CHANNEL's events anyway
    await this.listener?.query(`${wanted ? 'LISTEN' : 'UNLISTEN'} ${CHANNEL}`).catch(() => undefined);
  }

  async stop(): Promise<void> {
    // What was gathered still goes out: another process's views must not miss the last changes.
    clearTimeout(this.sendTimer);
    await this.sendEvents();
    this.stopping = true;
    clearTimeout(this.retry);
    await this.listener?.end().catch(() => undefined);
    this.listener = undefined;
  }

  private async listen(url: string): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: url });
    client.on('notification', (n) => {
      const message = parse(n.payload);
      if (message && message.from !== this.sender) this.deliver(message, true);
    });
    client.on('error', () => undefined);
    // A lost connection (PostgreSQL restarted) is opened again, LISTEN with it.
    client.on('end', () => {
      if (this.listener === client) this.reconnect(url, 100);
    });
    try {
      await client.connect();
      if (this.wakesWanted || this.eventsWanted) await client.query(`LISTEN ${CHANNEL}`);
      if (this.eventsWanted) await client.query(`LISTEN ${EVENTS_CHANNEL}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    return client;
  }

  private reconnect(url: string, waitMs: number): void {
    this.listener = undefined;
    if (this.stopping) return;
    this.retry = setTimeout(() => {
      this.listen(url).then((client) => {
        if (this.stopping) return void client.end().catch(() => undefined);
        this.listener = client;
        // Notifications sent while nobody listened are gone: every engine looks for work once.
        this.local.emit('wake', { kind: 'work' } satisfies WakeReason);
      }, () => this.reconnect(url, Math.min(waitMs * 2, 2000)));
    }, waitMs);
  }

  /**
   * Call inside the transaction: PostgreSQL delivers the notification at commit, never before.
   * Only wake-ups go this way (another engine must not miss work); a transaction without one
   * sends nothing here, because a NOTIFY in a transaction costs a round trip and serialises
   * its commit with every other notifying commit (PostgreSQL's notification queue lock).
   */
  async inTransaction(trx: Kysely<Database>, broadcast: Broadcast): Promise<void> {
    const payload = this.notification(broadcast);
    if (payload !== undefined) await sql`SELECT pg_notify(${CHANNEL}, ${payload})`.execute(trx);
  }

  /** The payload to send on CHANNEL in the transaction (see inTransaction), if any. */
  notification(broadcast: Broadcast): string | undefined {
    if (this.db.dialect !== 'postgres' || broadcast.wakes.length === 0) return undefined;
    const payload = JSON.stringify({ from: this.sender, ...broadcast });
    return payload.length > MAX_PAYLOAD ? JSON.stringify({ from: this.sender, wakes: broadcast.wakes, events: [] }) : payload;
  }

  /**
   * Call after commit: tells this process's listeners right away. Events that no in-transaction
   * notification carried go to the other processes' live views after the commit, gathered
   * over EVENTS_WINDOW_MS into as few notifications as fit (they are news for views, not state: the
   * journal holds the events that must not be lost).
   */
  afterCommit(broadcast: Broadcast): void {
    this.deliver(broadcast, false);
    if (this.db.dialect !== 'postgres' || broadcast.wakes.length > 0 || broadcast.events.length === 0) return;
    this.unsent.push(...broadcast.events);
    if (this.unsent.length === broadcast.events.length) this.sendTimer = setTimeout(() => void this.sendEvents(), EVENTS_WINDOW_MS);
  }

  private async sendEvents(): Promise<void> {
    const events = this.unsent.splice(0);
    while (events.length > 0 && !this.stopping) {
      let n = events.length;
      let payload = JSON.stringify({ from: this.sender, wakes: [], events });
      // Halve until it fits; a single event too big for a notification is dropped, as before.
      while (payload.length > MAX_PAYLOAD && n > 1) {
        n = Math.ceil(n / 2);
        payload = JSON.stringify({ from: this.sender, wakes: [], events: events.slice(0, n) });
      }
      events.splice(0, n);
      if (payload.length > MAX_PAYLOAD) continue;
      await sql`SELECT pg_notify(${EVENTS_CHANNEL}, ${payload})`.execute(this.db.kysely).catch(() => undefined);
    }
  }

  /** Wake-ups, from this process and others. */
  on(listener: (reason: WakeReason) => void): () => void {
    this.local.on('wake', listener);
    return () => this.local.off('wake', listener);
  }

  /** Events committed by other processes (this process's own reach its bus directly). */
  onRemoteEvent(listener: (event: SlipwayEvent) => void): () => void {
    this.local.on('event', listener);
    return () => this.local.off('event', listener);
  }

  private deliver(broadcast: Broadcast, remote: boolean): void {
    for (const reason of broadcast.wakes) this.local.emit('wake', reason);
    if (remote) for (const event of broadcast.events) this.local.emit('event', event);
  }
}

function parse(payload: string | undefined): (Broadcast & { from: string }) | undefined {
  try {
    const m = JSON.parse(payload ?? '') as Partial<Broadcast & { from: string }>;
    return typeof m.from === 'string' && Array.isArray(m.wakes) && Array.isArray(m.events)
      ? { from: m.from, wakes: m.wakes, events: m.events } : undefined;
  } catch {
    return undefined;
  }
}
