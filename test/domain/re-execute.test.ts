import { describe, expect, it } from 'vitest';
import type { StepStatus } from '../../src/domain/model.ts';
import { redeployEligibility, reExecuteEligibility, rollbackSource } from '../../src/domain/re-execute.ts';
import { execution, step } from '../support/fixtures.ts';

const withDeploy = (status: StepStatus, overrides = {}) => execution({
  id: '7',
  steps: [step({ id: '1', status: 'FINISHED' }), step({ id: '2', index: 1, action: 'deploy', environmentType: 'prod', status })],
  ...overrides,
});

describe('re-execute eligibility', () => {
  it('is offered for the last execution once its prod deploy completed, with any outcome', () => {
    for (const s of ['FINISHED', 'FAILED', 'ERROR', 'CANCELLED', 'ROLLED_BACK'] as StepStatus[]) {
      expect(reExecuteEligibility(withDeploy(s), '7', '2')).toEqual({ ok: true, sourceExecutionId: '7' });
    }
  });
  it('rule 1: only for the pipeline\'s last execution', () => {
    expect(reExecuteEligibility(withDeploy('FINISHED'), '8')).toMatchObject({ ok: false, reason: 'NOT_LAST_EXECUTION' });
  });
  it('rule 2: only once the prod deploy step has completed', () => {
    for (const s of ['RUNNING', 'WAITING', 'ROLLING_BACK'] as StepStatus[]) {
      expect(reExecuteEligibility(withDeploy(s), '7')).toMatchObject({ ok: false, reason: 'PROD_DEPLOY_NOT_COMPLETED' });
    }
  });
  it('rule 3: never after a push-update execution', () => {
    expect(reExecuteEligibility(withDeploy('FINISHED', { trigger: 'PUSH_UPGRADES' }), '7'))
      .toMatchObject({ ok: false, reason: 'PUSH_UPGRADE_EXECUTION' });
  });
  it('rule 4: never after one that failed before the prod deploy step', () => {
    expect(reExecuteEligibility(withDeploy('NOT_STARTED', { status: 'FAILED' }), '7'))
      .toMatchObject({ ok: false, reason: 'PROD_DEPLOY_NOT_COMPLETED' });
  });
  it('only from the prod deploy step, and a re-execution of a re-execution reuses the original build', () => {
    expect(reExecuteEligibility(withDeploy('FINISHED'), '7', '1')).toMatchObject({ ok: false, reason: 'WRONG_STEP' });
    expect(reExecuteEligibility(withDeploy('FINISHED', { trigger: 'RE_EXECUTE', sourceExecutionId: '3' }), '7'))
      .toEqual({ ok: true, sourceExecutionId: '3' });
  });
});

describe('redeploy eligibility (a rollback to an earlier release)', () => {
  const STATUSES: StepStatus[] = ['NOT_STARTED', 'RUNNING', 'WAITING', 'FINISHED', 'ERROR', 'FAILED', 'CANCELLED', 'ROLLING_BACK', 'ROLLED_BACK', 'INCOMPLETE'];
  it('is offered exactly for an earlier execution whose production deploy FINISHED (the release was live)', () => {
    for (const status of STATUSES) {
      const decision = redeployEligibility(withDeploy(status), '9');
      if (status === 'FINISHED') expect(decision).toEqual({ ok: true, sourceExecutionId: '7' });
      else expect(decision).toMatchObject({ ok: false, reason: 'PROD_DEPLOY_NOT_FINISHED' });
    }
  });
  it.each([
    ['the last execution (re-execute covers it)', withDeploy('FINISHED'), '7', 'LAST_EXECUTION'],
    ['a push-update execution', withDeploy('FINISHED', { trigger: 'PUSH_UPGRADES' }), '9', 'PUSH_UPGRADE_EXECUTION'],
    ['an execution without a production deploy step', execution({ id: '7', pipelineType: 'codeQuality', steps: [step({ status: 'FINISHED' })] }), '9', 'NO_PROD_DEPLOY_STEP'],
    ['one whose stage deploy finished but not its production deploy', execution({
      id: '7', status: 'FAILED', steps: [step({ id: '2', action: 'deploy', environmentType: 'stage', status: 'FINISHED' }),
        step({ id: '3', index: 1, action: 'deploy', environmentType: 'prod', status: 'NOT_STARTED' })],
    }), '9', 'PROD_DEPLOY_NOT_FINISHED'],
  ])('refuses %s', (_what, source, last, reason) => {
    expect(redeployEligibility(source, last)).toMatchObject({ ok: false, reason, message: expect.any(String) });
  });
  it('deploys the original build\'s artifacts when the release was itself a re-execution', () => {
    expect(redeployEligibility(withDeploy('FINISHED', { trigger: 'RE_EXECUTE', sourceExecutionId: '3' }), '9'))
      .toEqual({ ok: true, sourceExecutionId: '3' });
  });
});

describe('rollback source', () => {
  const live = (executionId: string, buildId = executionId) => ({ executionId, buildId });
  it('is the newest release of another build than the live one', () => {
    expect(rollbackSource([live('9'), live('7'), live('4')])).toEqual({ ok: true, sourceExecutionId: '7' });
    // Redeploys of the live build itself would change nothing: they are passed over.
    expect(rollbackSource([live('9', '4'), live('8', '4'), live('7'), live('4')])).toEqual({ ok: true, sourceExecutionId: '7' });
    // A release that is itself a redeploy is deployed again through the execution that last deployed it.
    expect(rollbackSource([live('9'), live('8', '3'), live('3')])).toEqual({ ok: true, sourceExecutionId: '8' });
  });
  it('refuses when nothing went live, or nothing before the live build', () => {
    expect(rollbackSource([])).toMatchObject({ ok: false, reason: 'NOTHING_LIVE' });
    expect(rollbackSource([live('9', '4'), live('4')])).toMatchObject({ ok: false, reason: 'NO_EARLIER_RELEASE' });
  });
});
