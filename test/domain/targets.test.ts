import { describe, expect, it } from 'vitest';
import type { Environment, EnvironmentType } from '../../src/domain/model.ts';
import { editFromPhases, targetProblem, targetsProblem } from '../../src/domain/targets.ts';

const env = (type: EnvironmentType, publishCount: number): Pick<Environment, 'name' | 'type' | 'settings'> =>
  ({ name: `site-${type}`, type, settings: { publishCount } });

describe('pipeline targets', () => {
  it('the environment type must be the one it is used as', () => {
    expect(targetProblem('prod', env('stage', 2))).toBe('environment site-stage is stage, not prod');
    expect(targetProblem('dev', env('dev', 1))).toBeUndefined();
  });

  it('production needs two publish/dispatcher pairs to roll without downtime; stage does not', () => {
    expect(targetProblem('prod', env('prod', 1))).toBe(
      'production environment site-prod has 1 publish/dispatcher pair; a rolling deployment without downtime needs at least 2');
    expect(targetProblem('prod', env('prod', 2))).toBeUndefined();
    expect(targetProblem('prod', env('prod', 3))).toBeUndefined();
    expect(targetProblem('stage', env('stage', 1))).toBeUndefined();
  });
});

describe('a pipeline\'s targets', () => {
  const program = new Map([
    ['1', { id: '1', name: 'stage', type: 'stage' as const, settings: { publishCount: 2 } }],
    ['2', { id: '2', name: 'prod', type: 'prod' as const, settings: { publishCount: 2 } }],
    ['3', { id: '3', name: 'dev', type: 'dev' as const, settings: { publishCount: 1 } }],
  ]);

  it('a production pipeline needs a stage and a prod environment of the program, each of its type', () => {
    expect(targetsProblem('fullStack', { stage: '1', prod: '2' }, program)).toBeUndefined();
    expect(targetsProblem('fullStack', { stage: '1' }, program)).toBe('a fullStack pipeline needs environments: prod');
    expect(targetsProblem('fullStack', { stage: '1', prod: '9' }, program)).toBe('environment 9 is not in this program');
    expect(targetsProblem('fullStack', { stage: '2', prod: '2' }, program)).toBe('environment prod is prod, not stage');
    expect(targetsProblem('codeQuality', {}, program)).toBeUndefined();
    expect(targetsProblem('webTier', { dev: '3' }, program)).toBeUndefined();
  });

  it('Cloud Manager\'s phases fold into the repository, branch and targets, over the current ones', () => {
    const folded = editFromPhases({ stage: '1', prod: '2' }, [
      { type: 'BUILD', repositoryId: '7', branch: 'release' },
      { type: 'DEPLOY', environmentId: '3', environmentType: 'dev' },
    ], program);
    expect(folded).toEqual({ ok: true, edit: { repositoryId: '7', branch: 'release', environments: { stage: '1', prod: '2', dev: '3' } } });
    expect(editFromPhases({}, [{ type: 'DEPLOY', environmentId: '3', environmentType: 'prod' }], program))
      .toEqual({ ok: false, message: 'environment dev is dev, not prod' });
    expect(editFromPhases({}, [{ type: 'DEPLOY', environmentId: '9' }], program))
      .toEqual({ ok: false, message: 'environment 9 is not in this program' });
  });
});
