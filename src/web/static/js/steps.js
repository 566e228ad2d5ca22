// Names of steps as Cloud Manager's UI shows them. A copy of src/domain/step-labels.ts (no build
// step here to import it); a test checks that they agree. Phases, gates and whether a step or
// execution ended come with the API's step states (phaseName, gate, done, ended).

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

const WAITING_FOR = {
  approval: 'go-live approval', schedule: 'a deployment time', managed: 'the support engineer\'s start (CSE oversight)',
  deploy: 'a person to resume the production deployment (paused before production)',
};

/** What a WAITING step waits for, as a phrase ("waiting for …"); `when` formats a time. */
export function waitingFor(step, when = (t) => t) {
  if (step.gate) return 'an override of failed important metrics';
  const scheduled = step.action === 'schedule' && /^scheduled for (.+)$/.exec(step.reason ?? '');
  if (scheduled) return `the scheduled deployment at ${when(scheduled[1])}`;
  return WAITING_FOR[step.action] ?? 'a person';
}
