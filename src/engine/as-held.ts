// A transition on PostgreSQL in one statement: decided (by the same domain rules,
// planStepEvent) from the execution the engine holds, and written only if the rows it was
// decided from are still so (store/guarded-writes.ts). One round trip and one commit instead
// of a transaction of a locked read and its writes. Two transitions go this way: a step's
// completion (with the hand-off of its successor) and the start of a step just claimed. When
// anything changed meanwhile (a cancel, progress the handler wrote, a takeover) nothing is
// written and the engine applies the transition the usual way, from a fresh locked read.
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

export interface AsHeld {
  /** A completion: the worker that runs the successor, if it is handed off. */
  handOff?: HandOff;
  /**
   * The reads (holdReads) of the step that runs once this commits, the one claimed or the
   * successor handed off: answered by the same statement.
   */
  readsFor?(runs: StepState): HeldReads<unknown>;
}

/** The committed transition's announcement; undefined when nothing was written (see above). */
export async function applyAsHeld(
  rt: Runtime, held: Execution, step: StepState, event: StepEvent, change: StepChange, now: number, options: AsHeld = {},
): Promise<Announcement | undefined> {
  if (rt.db.dialect !== 'postgres') return undefined;
  let planned: ReturnType<typeof planStepEvent>;
  try {
    planned = planStepEvent(step, event, change, now, held, options.handOff);
  } catch (error) {
    if (error instanceof TransitionRefused) return undefined;
    throw error;
  }
  const changes = new Announcements();
  addCompletion(changes, planned.announcement);
  const broadcast = broadcastOf(rt, changes);
  const payload = rt.wakeup.notification(broadcast);
  const runs = event === 'claim' ? step : planned.announcement.handedOff;
  const reads = runs && options.readsFor ? options.readsFor(runs) : undefined;
  // The rows decided from are the ones written: the step, and its successor when it is queued or handed off.
  const decidedFrom = planned.writes.steps.map((w) => (w.id === step.id ? step : held.steps.find((s) => s.id === w.id)!));
  try {
    const { applied, rows } = await writeIfUnchanged(rt.db, {
      executionId: held.id, executionStatus: held.status, steps: decidedFrom,
    }, {
      ...planned.writes,
      events: await outboxRecords(rt.db.kysely, rt.db, broadcast.events),
      ...(payload !== undefined ? { notify: { channel: CHANNEL, payload } } : {}),
    }, reads?.queries);
    if (!applied) {
      reads?.fail(new Error('not written'));
      return undefined;
    }
    reads?.settle(rows);
  } catch (error) {
    reads?.fail(error);
    // A deadlock victim wrote nothing: the usual transaction runs instead.
    if (isRetryable(error)) return undefined;
    throw error;
  }
  announce(rt, broadcast);
  return planned.announcement;
}
