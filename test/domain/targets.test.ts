import { describe, expect, it } from 'vitest';
import type { Environment, EnvironmentType } from '../../src/domain/model.ts';
import { targetProblem } from '../../src/domain/targets.ts';

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
