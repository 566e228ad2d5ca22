import { describe, expect, it } from 'vitest';
import { layoutFor, prodDeploySpec, requiredEnvironmentTypes } from '../../src/domain/layout.ts';
import { DEFAULT_PIPELINE_OPTIONS } from '../../src/domain/model.ts';
import { pipeline } from '../support/fixtures.ts';

const actions = (p: ReturnType<typeof pipeline>, mode: 'NORMAL' | 'EMERGENCY' = 'NORMAL') =>
  layoutFor(p, 'MANUAL', mode).map((s) => (s.environmentType ? `${s.action}:${s.environmentType}` : s.action));

describe('step layout', () => {
  it('a default production pipeline runs the three phases in Cloud Manager order', () => {
    expect(actions(pipeline())).toEqual([
      'validate', 'build', 'codeQuality', 'buildImage', 'deploy:stage',
      'productTest:stage', 'functionalTest:stage', 'uiTest:stage', 'contentAudit:stage',
      'approval:prod', 'deploy:prod',
    ]);
  });

  it('options add and remove steps; functional tests and the experience audit are never skipped', () => {
    const p = pipeline({ options: {
      ...DEFAULT_PIPELINE_OPTIONS, approval: false, schedule: true, managed: true, securityTest: true, loadTest: true,
      uiTests: false, auditPaths: [], pauseBeforeProd: true,
    } });
    expect(actions(p)).toEqual([
      'validate', 'build', 'codeQuality', 'buildImage', 'deploy:stage', 'productTest:stage', 'functionalTest:stage',
      'contentAudit:stage', 'securityTest:stage', 'loadTest:stage', 'schedule:prod', 'managed:prod', 'deploy:prod',
    ]);
    expect(layoutFor(p, 'MANUAL', 'NORMAL').at(-1)?.pauseBeforeRun).toBe(true);
  });

  it('emergency mode skips the security and load tests', () => {
    const p = pipeline({ options: { ...DEFAULT_PIPELINE_OPTIONS, securityTest: true, loadTest: true } });
    expect(actions(p, 'EMERGENCY')).not.toContain('securityTest:stage');
    expect(actions(p, 'EMERGENCY')).not.toContain('loadTest:stage');
    expect(actions(p, 'EMERGENCY')).toContain('functionalTest:stage');
  });

  it('other pipeline types', () => {
    expect(actions(pipeline({ type: 'codeQuality', environments: {} }))).toEqual(['validate', 'build', 'codeQuality']);
    expect(actions(pipeline({ type: 'devDeploy', environments: { dev: '3' } })))
      .toEqual(['validate', 'build', 'codeQuality', 'buildImage', 'deploy:dev']);
    expect(actions(pipeline({ type: 'webTier', environments: { stage: '1' } }))).toEqual(['validate', 'build', 'buildImage', 'deploy:stage']);
    expect(requiredEnvironmentTypes(pipeline())).toEqual(['stage', 'prod']);
  });

  it('a re-execution has validate, build (by reference) and the production deploy', () => {
    expect(layoutFor(pipeline(), 'RE_EXECUTE', 'NORMAL').map((s) => s.action)).toEqual(['validate', 'build', 'deploy']);
  });

  it('a re-execution deploys to production with the options of a normal execution (pause included)', () => {
    for (const pauseBeforeProd of [true, false]) {
      const p = pipeline({ options: { ...DEFAULT_PIPELINE_OPTIONS, pauseBeforeProd } });
      const normal = layoutFor(p, 'MANUAL', 'NORMAL').at(-1);
      const again = layoutFor(p, 'RE_EXECUTE', 'NORMAL').at(-1);
      expect(again).toEqual(normal);
      expect(again).toEqual(prodDeploySpec(p));
      expect(again).toMatchObject({ action: 'deploy', environmentType: 'prod', pauseBeforeRun: pauseBeforeProd });
    }
  });
});
