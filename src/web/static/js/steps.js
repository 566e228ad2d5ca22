// Names of steps and phases as Cloud Manager's UI shows them. The step names are a copy of
// src/domain/step-labels.ts (no build step here to import it); a test checks that they agree.

const LABELS = {
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

const DEPLOY_LABELS = { stage: 'Deploy to Stage', prod: 'Deploy to Production', dev: 'Deploy to Development' };

/** A re-execution's build step copies the source execution's artifacts; it builds nothing. */
const COPY_ARTIFACTS_LABEL = 'Copy Artifacts';

export function stepLabel(step, trigger) {
  if (step.action === 'build' && trigger === 'RE_EXECUTE') return COPY_ARTIFACTS_LABEL;
  if (step.action === 'deploy') return DEPLOY_LABELS[step.environmentType] ?? 'Deploy';
  return LABELS[step.action] ?? step.action;
}

const TESTING = new Set(['productTest', 'functionalTest', 'uiTest', 'contentAudit', 'securityTest', 'loadTest']);
const PRODUCTION = new Set(['approval', 'schedule', 'managed']);

/** The phase a step belongs to, by its action (and environment for deploys). */
export function phaseOf(step, execution) {
  if (execution.trigger === 'RE_EXECUTE') return 'Production Deployment';
  const fullStack = (execution.slipwayPipelineType ?? 'fullStack') === 'fullStack';
  if (!fullStack) return step.action === 'deploy' ? 'Deployment' : 'Build';
  if (TESTING.has(step.action)) return 'Stage Testing';
  if (PRODUCTION.has(step.action) || (step.action === 'deploy' && step.environmentType === 'prod')) return 'Production Deployment';
  return 'Stage Deployment';
}

/** Steps grouped into phases, in order of first appearance. */
export function phasesOf(execution, steps) {
  const phases = new Map();
  for (const step of steps) {
    const name = phaseOf(step, execution);
    if (!phases.has(name)) phases.set(name, []);
    phases.get(name).push(step);
  }
  return [...phases].map(([name, list]) => ({ name, steps: list }));
}

export const DONE = new Set(['FINISHED', 'INCOMPLETE']);
export const ENDED = new Set(['FINISHED', 'CANCELLED', 'ERROR', 'FAILED']);
export const GATES = new Set(['codeQuality', 'securityTest', 'loadTest']);
