// The names people read for steps, as Cloud Manager's UI shows them. One exception to a plain
// table: a re-execution's build step builds nothing, it copies the source execution's artifacts
// (Cloud Manager labels it differently for that reason). The web UI is plain ES modules without
// a build step, so src/web/static/js/steps.js keeps a copy of this table;
// test/domain/step-labels.test.ts checks that the two agree.
import type { EnvironmentType, PhaseName, StepAction, Trigger } from './model.ts';

/** The phases' names, as the UI heads its columns. */
export const PHASE_LABELS: Readonly<Record<PhaseName, string>> = {
  stageDeployment: 'Stage Deployment', stageTesting: 'Stage Testing', productionDeployment: 'Production Deployment',
  build: 'Build', deployment: 'Deployment',
};

export const STEP_LABELS: Readonly<Record<Exclude<StepAction, 'deploy'>, string>> = {
  validate: 'Validation',
  build: 'Build & Unit Testing',
  codeQuality: 'Code Scanning',
  buildImage: 'Build Images',
  productTest: 'Product Functional Testing',
  functionalTest: 'Custom Functional Testing',
  uiTest: 'Custom UI Testing',
  contentAudit: 'Experience Audit',
  securityTest: 'Security Testing',
  loadTest: 'Load Testing',
  approval: 'Go-Live Approval',
  schedule: 'Schedule Deployment',
  managed: 'Managed Oversight',
};

export const DEPLOY_LABELS: Readonly<Record<EnvironmentType, string>> = {
  stage: 'Deploy to Stage', prod: 'Deploy to Production', dev: 'Deploy to Development',
};

export const COPY_ARTIFACTS_LABEL = 'Copy Artifacts';

interface LabelledStep { action: string; environmentType?: string }

/** True for the build step of a re-execution: it copies artifacts by reference, it builds nothing. */
export function copiesArtifacts(step: LabelledStep, trigger: Trigger | string): boolean {
  return step.action === 'build' && trigger === 'RE_EXECUTE';
}

export function stepLabel(step: LabelledStep, trigger: Trigger | string): string {
  if (copiesArtifacts(step, trigger)) return COPY_ARTIFACTS_LABEL;
  if (step.action === 'deploy') return DEPLOY_LABELS[step.environmentType as EnvironmentType] ?? 'Deploy';
  return STEP_LABELS[step.action as Exclude<StepAction, 'deploy'>] ?? step.action;
}
