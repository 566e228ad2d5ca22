// Pushed wake-ups: whoever commits a change that makes work runnable (or cancels it) tells the
// engines at once: in-process through an emitter, across processes through LISTEN/NOTIFY.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import pg from 'pg';
import { sql, type Kysely } from 'kysely';
import type { Db } from '../store/db.ts';
import type { Database } from '../store/schema.ts';

const CHANNEL = 'slipway_wake';

export type WakeReason = { kind: 'work' } | { kind: 'cancel'; executionId: string };

export class Wakeup {
  private readonly local = new EventEmitter();
  /** Tags this process's notifications: it has already woken its own engines after commit. */
  private readonly sender = randomUUID().slice(0, 8);
  private listener?: pg.Client;

  constructor(private readonly db: Db) {
    this.local.setMaxListeners(0);
  }

  /** Starts listening for other processes' notifications (PostgreSQL only). */
  async start(): Promise<void> {
    if (this.db.dialect !== 'postgres' || !this.db.postgresUrl) return;
    const client = new pg.Client({ connectionString: this.db.postgresUrl });
    await client.connect();
    client.on('notification', (n) => {
      const [from, payload] = splitSender(n.payload ?? '');
      if (from !== this.sender) this.deliver(payload);
    });
    client.on('error', () => undefined);
    await client.query(`LISTEN ${CHANNEL}`);
    this.listener = client;
  }

  async stop(): Promise<void> {
    await this.listener?.end().catch(() => undefined);
    this.listener = undefined;
  }

  /**
   * Call inside the transaction that made the change: PostgreSQL delivers the notification
   * at commit (to this process too, through its listener), never before.
   */
  async inTransaction(trx: Kysely<Database>, reason: WakeReason = { kind: 'work' }): Promise<void> {
    if (this.db.dialect === 'postgres') await sql`SELECT pg_notify(${CHANNEL}, ${`${this.sender}|${encode(reason)}`})`.execute(trx);
  }

  /** Call after commit: wakes the engines of this process right away. */
  afterCommit(reason: WakeReason = { kind: 'work' }): void {
    this.deliver(encode(reason));
  }

  on(listener: (reason: WakeReason) => void): () => void {
    this.local.on('wake', listener);
    return () => this.local.off('wake', listener);
  }

  private deliver(payload: string): void {
    this.local.emit('wake', decode(payload));
  }
}

const splitSender = (p: string): [string, string] => {
  const bar = p.indexOf('|');
  return bar < 0 ? ['', p] : [p.slice(0, bar), p.slice(bar + 1)];
};
const encode = (r: WakeReason): string => (r.kind === 'cancel' ? `cancel:${r.executionId}` : 'work');
const decode = (p: string): WakeReason =>
  p.startsWith('cancel:') ? { kind: 'cancel', executionId: p.slice(7) } : { kind: 'work' };
