// The engine's timers. A waiting step's deadline passing and a lease expiring commit nothing,
// so no wake-up announces them: one clock timer, armed for the next due moment, pokes the
// engine then, and its claim pass fires the due waits first. A claim pass that failed (the
// database unreachable) is retried by a timer of its own.
import { dueWaitTransition } from '../domain/wait-timeout.ts';
import { dueWaitingSteps, getExecution, getStep, nextDueAt } from '../store/executions.ts';
import { getPipeline } from '../store/pipelines.ts';
import { transact, type Runtime } from './runtime.ts';
import { applyStepEvent } from './state.ts';

export interface TimerDeps {
  rt: Runtime;
  /** Asks for a claim pass (Engine.poke). */
  poke(): void;
  /** The engine is stopped: nothing is armed. */
  stopped(): boolean;
}

export interface Timers {
  /** Fires the due waits, if any can be due: at the first claim pass, and after the timer or a retry fired. */
  fireIfDue(): Promise<void>;
  /** Arms the timer for the next due moment: a waiting step's deadline or an expiring lease. */
  arm(): Promise<void>;
  /** Pokes again soon, due waits included. */
  retrySoon(): void;
  stop(): void;
}

export function engineTimers({ rt, poke, stopped }: TimerDeps): Timers {
  /** Set at start and when the timer fires: only then can waiting steps be due. */
  let due = true;
  let cancelTimer: (() => void) | undefined;
  let timerAt: number | undefined;
  let retry: NodeJS.Timeout | undefined;
  return {
    async fireIfDue() {
      if (!due) return;
      due = false;
      await fireDueTimers(rt);
    },
    async arm() {
      const at = await nextDueAt(rt.db.kysely);
      if (at === timerAt) return;
      cancelTimer?.();
      cancelTimer = undefined;
      timerAt = at;
      if (at === undefined || stopped()) return;
      // +1 ms: a lease is claimable only once strictly past its expiry.
      cancelTimer = rt.clock.setTimer(() => {
        timerAt = undefined;
        due = true;
        poke();
      }, at - rt.clock.now() + 1);
    },
    retrySoon() {
      clearTimeout(retry);
      retry = setTimeout(() => {
        due = true;
        poke();
      }, 1000);
    },
    stop() {
      clearTimeout(retry);
      cancelTimer?.();
    },
  };
}

/** Waiting steps whose time has come: scheduled deployments start, other waits time out. */
async function fireDueTimers(rt: Runtime): Promise<void> {
  const due = await dueWaitingSteps(rt.db.kysely, rt.clock.now());
  for (const candidate of due) {
    await transact(rt, async (trx, changes) => {
      const step = await getStep(trx, candidate.id);
      const now = rt.clock.now();
      if (!step || step.status !== 'WAITING' || !step.wakeAt || step.wakeAt.getTime() > now) return;
      const execution = await getExecution(trx, step.executionId);
      const pipeline = execution && await getPipeline(trx, execution.pipelineId);
      const { event, reason } = dueWaitTransition(step.action, Boolean(step.details.scheduledAt), pipeline?.options);
      changes.add(await applyStepEvent(trx, step, event, { reason }, now, execution));
    });
  }
}
