// What a waiting step becomes when its wait runs out. A timeout never takes a person's decision:
// an unanswered go-live approval, schedule, managed oversight or pause before production fails
// the execution, whatever the pipeline says, so nothing reaches production without someone's
// yes. Only a quality gate waiting for an override may go on, when the pipeline's
// `waitTimeoutOutcome` is 'continue' (its failing metrics were important, never critical).
import type { StepAction, WaitTimeoutOutcome } from './model.ts';
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
