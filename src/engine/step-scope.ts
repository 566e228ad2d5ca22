// Which execution and step the code running now belongs to. The engine runs every handler
// inside this scope, so a stray rejection or exception that reaches the process can be logged
// with the step it came from (AsyncLocalStorage follows timers, promises and callbacks).
import { AsyncLocalStorage } from 'node:async_hooks';

export interface StepScope {
  executionId: string;
  stepId: string;
  action: string;
}

const scope = new AsyncLocalStorage<StepScope>();

export function runInStepScope<T>(step: StepScope, fn: () => T): T {
  return scope.run({ executionId: step.executionId, stepId: step.stepId, action: step.action }, fn);
}

/** The step the current code runs for, if any. */
export function currentStep(): StepScope | undefined {
  return scope.getStore();
}

/** Runs `fn` belonging to no step (work an engine does for itself). */
export function outsideStepScope<T>(fn: () => T): T {
  return scope.exit(fn);
}
