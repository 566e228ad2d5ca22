import { describe, expect, it } from 'vitest';
import type { StepStatus } from '../../src/domain/model.ts';
import { reExecuteEligibility } from '../../src/domain/re-execute.ts';
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
