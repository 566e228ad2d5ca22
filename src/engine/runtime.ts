// What every state change needs: the database, the wake-up channel, the event bus and the
// clock; and `transact`, which commits a change and only then announces it.
import type { Kysely } from 'kysely';
import type { Clock } from './clock.ts';
import type { Announcement } from './state.ts';
import type { EventBus, SlipwayEvent } from '../events/bus.ts';
import { writeOutbox } from '../events/outbox.ts';
import { tx, type Db } from '../store/db.ts';
import type { SecretBox } from '../store/secret-box.ts';
import type { Database } from '../store/schema.ts';
import type { Broadcast, Wakeup, WakeReason } from './wakeup.ts';

export interface Runtime {
  db: Db;
  wakeup: Wakeup;
  bus: EventBus;
  clock: Clock;
  /** Seals and opens secret variable values (the key never enters the database). */
  secrets: SecretBox;
}

/** A transaction's announcements, collected as its changes are made; sent out (a Broadcast) at commit. */
export class Announcements {
  readonly announcements: Announcement[] = [];
  readonly extraWakes: WakeReason[] = [];
  add(announcement: Announcement): void {
    this.announcements.push(announcement);
  }
  wake(reason: WakeReason): void {
    this.extraWakes.push(reason);
  }
  get needsWake(): boolean {
    return this.announcements.some((a) => a.wake);
  }
}

/** Runs `fn` in one transaction; after commit, emits its events and wakes the engines. */
export async function transact<T>(rt: Runtime, fn: (trx: Kysely<Database>, changes: Announcements) => Promise<T>): Promise<T> {
  let broadcast: Broadcast = { wakes: [], events: [] };
  const result = await tx(rt.db, async (trx) => {
    // Fresh for every attempt: a transaction run again must not announce twice.
    const changes = new Announcements();
    const value = await fn(trx, changes);
    broadcast = broadcastOf(rt, changes);
    // Webhooks' events go into the outbox in this transaction: they exist exactly if it commits.
    await writeOutbox(trx, rt.db, broadcast.events);
    await rt.wakeup.inTransaction(trx, broadcast);
    return value;
  });
  announce(rt, broadcast);
  return result;
}

/** What a transaction's changes send out, its events stamped now. */
export function broadcastOf(rt: Runtime, changes: Announcements): Broadcast {
  const at = new Date(rt.clock.now()).toISOString();
  return {
    wakes: [...(changes.needsWake ? [{ kind: 'work' } as const] : []), ...changes.extraWakes],
    events: changes.announcements.flatMap((a) => a.events.map((e) => ({ ...e, at }) as SlipwayEvent)),
  };
}

/** After commit: the events to this process's bus, the wake-ups to the engines. */
export function announce(rt: Runtime, broadcast: Broadcast): void {
  for (const e of broadcast.events) rt.bus.emit(e);
  rt.wakeup.afterCommit(broadcast);
}
