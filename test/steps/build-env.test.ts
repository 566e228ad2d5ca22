import { describe, expect, it } from 'vitest';
import { computeArtifactsVersion } from '../../src/domain/artifacts-version.ts';
import { buildEnvironment, failedTestsReason } from '../../src/steps/build-env.ts';

describe('build environment', () => {
  it('computes a Cloud Manager-style artifacts version', () => {
    expect(computeArtifactsVersion(new Date('2026-01-02T03:04:05Z'), '42')).toBe('2026.102.030405.0000000042');
    expect(computeArtifactsVersion(new Date('2026-12-25T23:59:09Z'), '1234567')).toBe('2026.1225.235909.0001234567');
  });

  it("sets Cloud Manager's variables; Slipway's names win over pipeline variables", () => {
    const env = buildEnvironment({
      branch: 'main', pipelineId: '11', pipelineName: 'Prod', programId: '7', programName: 'P',
      artifactsVersion: 'v', homeDir: '/w/home', tmpDir: '/w/tmp', cacheDir: '/data/caches/11',
      variables: { MY_VAR: 'x', CM_BUILD: 'false', PATH: '/evil', npm_config_cache: '/elsewhere' },
    });
    expect(env).toMatchObject({
      CM_BUILD: 'true', BRANCH: 'main', CM_PIPELINE_ID: '11', CM_PIPELINE_NAME: 'Prod', CM_PROGRAM_ID: '7',
      CM_PROGRAM_NAME: 'P', ARTIFACTS_VERSION: 'v', HOME: '/w/home', TMPDIR: '/w/tmp', MY_VAR: 'x',
      npm_config_cache: '/data/caches/11/npm', XDG_CACHE_HOME: '/data/caches/11/xdg',
    });
    expect(env.PATH).not.toContain('/evil');
    expect(env.PATH).toContain('/usr/bin');
  });

  it('names failed tests', () => {
    expect(failedTestsReason([{ suite: 'math', name: 'adds' }, { suite: '', name: 'solo' }])).toBe('2 unit tests failed: math › adds, solo');
    const many = Array.from({ length: 7 }, (_, i) => ({ suite: 's', name: `t${i}` }));
    expect(failedTestsReason(many)).toMatch(/^7 unit tests failed: .* and 2 more$/);
  });
});
