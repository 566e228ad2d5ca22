// When a production deployment may be deployed again (docs/design.md §1 "Re-execute"): Cloud
// Manager's re-execute of the last execution, and Slipway's redeploy of an earlier release (a
// rollback). Both make the same execution: trigger RE_EXECUTE, the source's artifacts. Pure.
import type { Execution, StepState } from './model.ts';
import { isStepTerminal } from './transitions.ts';

export type ReExecuteRefusal =
  | 'NOT_LAST_EXECUTION'
  | 'PROD_DEPLOY_NOT_COMPLETED'
  | 'PUSH_UPGRADE_EXECUTION'
  | 'NO_PROD_DEPLOY_STEP'
  | 'WRONG_STEP';

/** Whether an execution's release may be deployed again, and from which source; or why not. */
type Eligibility<Refusal extends string> =
  | { ok: true; sourceExecutionId: string }
  | { ok: false; reason: Refusal; message: string };

export type ReExecuteDecision = Eligibility<ReExecuteRefusal>;

export function prodDeployStep(execution: Execution): StepState | undefined {
  return execution.steps.find((s) => s.action === 'deploy' && s.environmentType === 'prod');
}

/**
 * Re-execute is offered only (1) for the pipeline's last execution, (2) once its production
 * deploy step has completed with any outcome, (3) never after a push-update execution, and
 * (4) never after one that failed before reaching the production deploy step.
 */
export function reExecuteEligibility(
  execution: Execution, lastExecutionId: string | undefined, stepId?: string,
): ReExecuteDecision {
  const refuse = (reason: ReExecuteRefusal, message: string): ReExecuteDecision => ({ ok: false, reason, message });
  if (execution.trigger === 'PUSH_UPGRADES') {
    return refuse('PUSH_UPGRADE_EXECUTION', 'a push-update execution cannot be re-executed');
  }
  if (execution.id !== lastExecutionId) {
    return refuse('NOT_LAST_EXECUTION', 'only the pipeline\'s last execution can be re-executed');
  }
  const deploy = prodDeployStep(execution);
  if (!deploy) return refuse('NO_PROD_DEPLOY_STEP', 'the execution has no production deploy step');
  if (stepId !== undefined && stepId !== deploy.id) {
    return refuse('WRONG_STEP', 're-execution starts from the production deploy step');
  }
  if (deploy.status === 'NOT_STARTED') {
    return refuse('PROD_DEPLOY_NOT_COMPLETED', 'the execution ended before its production deploy step');
  }
  if (!isStepTerminal(deploy.status) || !['FINISHED', 'FAILED', 'ERROR', 'CANCELLED', 'ROLLED_BACK'].includes(deploy.status)) {
    return refuse('PROD_DEPLOY_NOT_COMPLETED', 'the production deploy step has not completed');
  }
  // A re-execution of a re-execution deploys the original build's artifacts.
  return { ok: true, sourceExecutionId: execution.sourceExecutionId ?? execution.id };
}

export type RedeployRefusal =
  | 'LAST_EXECUTION'
  | 'PROD_DEPLOY_NOT_FINISHED'
  | 'PUSH_UPGRADE_EXECUTION'
  | 'NO_PROD_DEPLOY_STEP';

export type RedeployDecision = Eligibility<RedeployRefusal>;

/**
 * Redeploy ("Redeploy this release", a rollback) is offered for an EARLIER execution whose
 * production deploy step FINISHED: its release really was live. The pipeline's last execution
 * is deployed again through Cloud Manager's re-execute instead (one way for one act), and a
 * push-update execution deploys nothing of the customer's own. The new execution deploys the
 * original build's artifacts, as a re-execution does.
 */
export function redeployEligibility(execution: Execution, lastExecutionId: string | undefined): RedeployDecision {
  const refuse = (reason: RedeployRefusal, message: string): RedeployDecision => ({ ok: false, reason, message });
  if (execution.trigger === 'PUSH_UPGRADES') {
    return refuse('PUSH_UPGRADE_EXECUTION', 'a push-update execution cannot be redeployed');
  }
  const deploy = prodDeployStep(execution);
  if (!deploy) return refuse('NO_PROD_DEPLOY_STEP', 'the execution has no production deploy step');
  if (deploy.status !== 'FINISHED') {
    return refuse('PROD_DEPLOY_NOT_FINISHED', `its release never went live: the production deploy step is ${deploy.status}`);
  }
  if (execution.id === lastExecutionId) {
    return refuse('LAST_EXECUTION', 'the pipeline\'s last execution is deployed again by re-executing it');
  }
  return { ok: true, sourceExecutionId: execution.sourceExecutionId ?? execution.id };
}

/** A production release that went live: the execution that deployed it, and the build it came from. */
export interface LiveRelease {
  executionId: string;
  /** The execution whose build the release is (a re-execution's source, or itself). */
  buildId: string;
}

export type RollbackRefusal = 'NOTHING_LIVE' | 'NO_EARLIER_RELEASE';
export type RollbackDecision = Eligibility<RollbackRefusal>;

/**
 * Cloud Manager's rollbackLastSuccessfulExecution: the release live before the last one that
 * went live, deployed again (a redeploy of the execution that last deployed it). `live` is the
 * pipeline's releases that went live, newest first. A redeploy of the live build itself would
 * change nothing, so the target is the newest release of another build.
 */
export function rollbackSource(live: readonly LiveRelease[]): RollbackDecision {
  const [current, ...earlier] = live;
  if (!current) return { ok: false, reason: 'NOTHING_LIVE', message: 'no execution of this pipeline has gone live in production yet' };
  const target = earlier.find((r) => r.buildId !== current.buildId);
  if (!target) {
    return { ok: false, reason: 'NO_EARLIER_RELEASE', message: `no release went live before the one of execution ${current.buildId}` };
  }
  return { ok: true, sourceExecutionId: target.executionId };
}
