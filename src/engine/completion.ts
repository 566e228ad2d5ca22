// A step's completion on PostgreSQL in one statement: the transition is decided (by the same
// domain rules, planStepEvent) from the execution the engine has held since it started the
// step, and written only if the rows it read are still so (store/guarded-writes.ts). One
// round trip and one commit instead of a transaction of a locked read and its writes. When
// anything changed meanwhile (a cancel, progress the handler wrote, a takeover) nothing is
// written and the engine completes the step the usual way, from a fresh locked read.
import type { Execution, StepState } from '../domain/model.ts';
import type { StepEvent } from '../domain/transitions.ts';
import { outboxRecords } from '../events/outbox.ts';
import { isRetryable } from '../store/db.ts';
import { writeIfUnchanged } from '../store/guarded-writes.ts';
import type { HeldReads } from '../store/read-together.ts';
import { Announcements, announce, broadcastOf, type Runtime } from './runtime.ts';
import { planStepEvent, TransitionRefused, type Announcement, type HandOff, type StepChange } from './state.ts';
import { CHANNEL } from './wakeup.ts';

/**
 * Adds a completion's announcement to its transaction's. An ended execution frees a slot of
 * its program: engines that held back that program's queued steps (fair sharing) must look again.
 */
export function addCompletion(changes: Announcements, outcome: Announcement): void {
  changes.add(outcome);
  if (outcome.events.some((e) => e.type === 'execution.ended')) changes.wake({ kind: 'work' });
}

/** The committed completion's announcement; undefined when nothing was written (see above). */
export async function completeAsHeld(
  rt: Runtime, held: Execution, step: StepState, event: StepEvent, change: StepChange, now: number, handOff?: HandOff,
  /** The reads the step to be handed off needs (holdReads): answered by the completion's statement. */
  readsFor?: (next: StepState) => Promise<HeldReads<unknown>>,
): Promise<Announcement | undefined> {
  if (rt.db.dialect !== 'postgres') return undefined;
  let planned: ReturnType<typeof planStepEvent>;
  try {
    planned = planStepEvent(step, event, change, now, held, handOff);
  } catch (error) {
    if (error instanceof TransitionRefused) return undefined;
    throw error;
  }
  const changes = new Announcements();
  addCompletion(changes, planned.announcement);
  const broadcast = broadcastOf(rt, changes);
  const payload = rt.wakeup.notification(broadcast);
  const next = held.steps[step.index + 1];
  const handedOff = planned.announcement.handedOff;
  const reads = handedOff && readsFor ? await readsFor(handedOff) : undefined;
  try {
    const { applied, rows } = await writeIfUnchanged(rt.db, {
      executionId: held.id, executionStatus: held.status, steps: next ? [step, next] : [step],
    }, {
      ...planned.writes,
      events: await outboxRecords(rt.db.kysely, rt.db, broadcast.events),
      ...(payload !== undefined ? { notify: { channel: CHANNEL, payload } } : {}),
    }, reads?.queries);
    if (!applied) {
      reads?.fail(new Error('not handed off'));
      return undefined;
    }
    reads?.settle(rows);
  } catch (error) {
    reads?.fail(error);
    // A deadlock victim wrote nothing: the usual completion runs instead.
    if (isRetryable(error)) return undefined;
    throw error;
  }
  announce(rt, broadcast);
  return planned.announcement;
}
