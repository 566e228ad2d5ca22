// The server process's stance on errors nobody caught (README, "How it keeps going"):
// - an unhandled rejection is contained: logged with the execution and step it came from, and
//   the process goes on. A rejected promise nobody awaited leaves no code half-way through:
//   whatever awaited it has already moved on, so the API and the other steps are unharmed.
// - an uncaught exception ends the process (exit 1) after it is logged: it unwound a callback
//   half-way, so the process's own state can no longer be trusted. The supervisor (systemd,
//   docs/slipway.service) starts it again and the durable engine takes over its steps.
import { currentStep } from '../engine/step-scope.ts';

function where(): string {
  const step = currentStep();
  return step ? `execution ${step.executionId}, step ${step.stepId} (${step.action})` : 'no step';
}

function describe(error: unknown): string {
  return error instanceof Error ? error.stack ?? error.message : String(error);
}

/** Installs the handlers; returns a function that removes them. */
export function handleProcessFaults(
  log: (line: string) => void,
  exit: (code: number) => void = (code) => process.exit(code),
): () => void {
  const onRejection = (reason: unknown) => {
    log(`unhandled rejection in ${where()}, contained (Slipway keeps running): ${describe(reason)}`);
  };
  const onException = (error: unknown) => {
    log(`uncaught exception in ${where()}; exiting, the supervisor restarts Slipway and the engine resumes: ${describe(error)}`);
    exit(1);
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };
}
