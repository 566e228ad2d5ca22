// Test handlers for engine tests (the shipped registry holds only real handlers). Each
// finishes at once unless told otherwise; `calls` records which ran, in order.
import { STEP_ACTIONS, type StepAction } from '../../src/domain/model.ts';
import type { HandlerRegistry, StepContext, StepHandler, StepResult } from '../../src/steps/handler.ts';
import { approvalHandler, managedHandler, scheduleHandler } from '../../src/steps/waiting.ts';

export type Behaviour = (ctx: StepContext) => Promise<StepResult>;

export function testHandlers(overrides: Partial<Record<StepAction, Behaviour>> = {}, calls: string[] = []): HandlerRegistry {
  const registry: HandlerRegistry = {};
  for (const action of STEP_ACTIONS) {
    const behaviour = overrides[action];
    const real = { approval: approvalHandler, schedule: scheduleHandler, managed: managedHandler }[action as string] as StepHandler | undefined;
    registry[action] = {
      action,
      idempotent: true,
      async run(ctx) {
        calls.push(ctx.step.environmentType ? `${action}:${ctx.step.environmentType}` : action);
        if (behaviour) return behaviour(ctx);
        if (real) return real.run(ctx);
        ctx.log.line(`${action} ran`);
        return { outcome: 'finished' };
      },
    };
  }
  return registry;
}

/** Waits `ms`, or rejects as soon as the step is cancelled. */
export const pause = (ms: number, signal: AbortSignal): Promise<void> => new Promise((resolve, reject) => {
  const t = setTimeout(resolve, ms);
  signal.addEventListener('abort', () => { clearTimeout(t); reject(new Error('cancelled')); }, { once: true });
});

/** Resolves when the signal aborts (a step that runs until cancelled). */
export const untilAborted = (signal: AbortSignal): Promise<never> =>
  new Promise((_, reject) => {
    if (signal.aborted) reject(new Error('aborted'));
    signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
  });
