// The step names people read: one table in the domain (used by the CLI) and its copy in the web
// UI's plain ES module; they must agree, the re-execution's "Copy Artifacts" included.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ENVIRONMENT_TYPES, STEP_ACTIONS, TRIGGERS } from '../../src/domain/model.ts';
import { COPY_ARTIFACTS_LABEL, copiesArtifacts, stepLabel } from '../../src/domain/step-labels.ts';

const UI_STEPS = fileURLToPath(new URL('../../src/web/static/js/steps.js', import.meta.url));

describe('step labels', () => {
  it("a re-execution's build step copies artifacts; every other build builds", () => {
    expect(stepLabel({ action: 'build' }, 'RE_EXECUTE')).toBe(COPY_ARTIFACTS_LABEL);
    expect(COPY_ARTIFACTS_LABEL).toBe('Copy Artifacts');
    for (const trigger of TRIGGERS.filter((t) => t !== 'RE_EXECUTE')) {
      expect(stepLabel({ action: 'build' }, trigger)).toBe('Build & Unit Testing');
      expect(copiesArtifacts({ action: 'build' }, trigger)).toBe(false);
    }
    expect(stepLabel({ action: 'deploy', environmentType: 'prod' }, 'RE_EXECUTE')).toBe('Deploy to Production');
    expect(stepLabel({ action: 'validate' }, 'RE_EXECUTE')).toBe('Validation');
  });

  it('the web UI shows the same names as the domain, for every action, environment and trigger', async () => {
    // A computed specifier: the UI module is plain JavaScript without type declarations.
    const ui = (await import(UI_STEPS)) as { stepLabel(step: object, trigger: string): string };
    for (const trigger of TRIGGERS) {
      for (const action of STEP_ACTIONS) {
        for (const environmentType of [undefined, ...ENVIRONMENT_TYPES]) {
          const step = environmentType ? { action, environmentType } : { action };
          expect(ui.stepLabel(step, trigger), `${action} ${environmentType ?? ''} ${trigger}`).toBe(stepLabel(step, trigger));
        }
      }
    }
  });
});
