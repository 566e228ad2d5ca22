// The steps that wait for a person: go-live approval, the schedule, and managed oversight.
// Their handlers only put the step in WAITING; the advance and cancel bodies decide the rest.
import type { StepAction } from '../domain/model.ts';
import type { StepHandler } from './handler.ts';

const REASONS: Partial<Record<StepAction, string>> = {
  approval: 'waiting for go-live approval',
  schedule: 'waiting for a deployment time (now or scheduled)',
  managed: 'waiting for a support engineer to start the deployment',
};

function waitingHandler(action: 'approval' | 'schedule' | 'managed'): StepHandler {
  return {
    action,
    idempotent: true,
    async run(ctx) {
      const reason = REASONS[action] ?? 'waiting';
      ctx.log.line(`[slipway] ${reason}`);
      return { outcome: 'waiting', reason };
    },
  };
}

export const approvalHandler = waitingHandler('approval');
export const scheduleHandler = waitingHandler('schedule');
export const managedHandler = waitingHandler('managed');
