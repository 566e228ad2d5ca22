// What a waiting step becomes when its wait runs out. A timeout never takes a person's decision:
// an unanswered go-live approval, schedule, managed oversight or pause before production fails
// the execution, whatever the pipeline says, so nothing reaches production without someone's
// yes. Only a quality gate waiting for an override may go on, when the pipeline's
// `waitTimeoutOutcome` is 'continue' (its failing metrics were important, never critical).
import type { PipelineOptions, StepAction, WaitTimeoutOutcome } from './model.ts';
import type { StepEvent } from './transitions.ts';

type TimeoutRule = 'fails' | 'pipelineDecides';

/** Total over the actions, so a new action needs a decision here. */
export const TIMEOUT_RULES: Readonly<Record<StepAction, TimeoutRule>> = {
  validate: 'fails',
  build: 'fails',
  codeQuality: 'pipelineDecides',
  buildImage: 'fails',
  deploy: 'fails',
  productTest: 'fails',
  functionalTest: 'fails',
  uiTest: 'fails',
  contentAudit: 'fails',
  securityTest: 'pipelineDecides',
  loadTest: 'pipelineDecides',
  approval: 'fails',
  schedule: 'fails',
  managed: 'fails',
};

/** The step event for a waiting step of `action` whose time ran out. */
export function timeoutEvent(action: StepAction, outcome: WaitTimeoutOutcome): Extract<StepEvent, 'timeout' | 'timeoutContinue'> {
  return TIMEOUT_RULES[action] === 'pipelineDecides' && outcome === 'continue' ? 'timeoutContinue' : 'timeout';
}

/**
 * What a waiting step whose time has come becomes, with the reason shown to people: a
 * scheduled deployment starts; any other wait has timed out.
 */
export function dueWaitTransition(
  action: StepAction, scheduled: boolean,
  options: Pick<PipelineOptions, 'waitTimeoutMs' | 'waitTimeoutOutcome'> | undefined,
): { event: Extract<StepEvent, 'advance' | 'timeout' | 'timeoutContinue'>; reason: string } {
  if (scheduled) return { event: 'advance', reason: 'scheduled time reached' };
  const event = timeoutEvent(action, options?.waitTimeoutOutcome ?? 'fail');
  const days = ((options?.waitTimeoutMs ?? 0) / 86_400_000).toFixed(1).replace(/\.0$/, '');
  return { event, reason: `timed out after waiting ${days} days${event === 'timeoutContinue' ? '; the pipeline continues' : ''}` };
}
