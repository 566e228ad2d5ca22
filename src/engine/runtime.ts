// What every state change needs: the database, the wake-up channel, the event bus and the
// clock; and `transact`, which commits a change and only then announces it.
import type { Kysely } from 'kysely';
import type { Clock } from './clock.ts';
import type { Outcome } from './state.ts';
import type { EventBus } from '../events/bus.ts';
import { tx, type Db } from '../store/db.ts';
import type { Database } from '../store/schema.ts';
import type { Wakeup, WakeReason } from './wakeup.ts';

export interface Runtime {
  db: Db;
  wakeup: Wakeup;
  bus: EventBus;
  clock: Clock;
}

export class Changes {
  readonly outcomes: Outcome[] = [];
  readonly extraWakes: WakeReason[] = [];
  add(outcome: Outcome): void {
    this.outcomes.push(outcome);
  }
  wake(reason: WakeReason): void {
    this.extraWakes.push(reason);
  }
  get needsWake(): boolean {
    return this.outcomes.some((o) => o.wake);
  }
}

/** Runs `fn` in one transaction; after commit, emits its events and wakes the engines. */
export async function transact<T>(rt: Runtime, fn: (trx: Kysely<Database>, changes: Changes) => Promise<T>): Promise<T> {
  const changes = new Changes();
  const result = await tx(rt.db, async (trx) => {
    const value = await fn(trx, changes);
    if (changes.needsWake) await rt.wakeup.inTransaction(trx);
    for (const reason of changes.extraWakes) await rt.wakeup.inTransaction(trx, reason);
    return value;
  });
  const at = new Date(rt.clock.now()).toISOString();
  for (const outcome of changes.outcomes) for (const e of outcome.events) rt.bus.emit({ ...e, at });
  for (const reason of changes.extraWakes) rt.wakeup.afterCommit(reason);
  if (changes.needsWake) rt.wakeup.afterCommit();
  return result;
}
