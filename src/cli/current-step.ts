// Which step of the current execution "advance" and "cancel" act on, and with which body —
// chosen exactly as Adobe's JS library does (NOTES §5.4), so scripts behave the same against
// Cloud Manager and Slipway. Pure: the caller fetches metrics when `needsMetrics` says so.
import { isStepDone, type Metric, type StepStateView } from './hal.ts';

export type StepCommand =
  | { link: 'advance' | 'cancel'; step: StepStateView; body: unknown }
  | { link: 'advance'; step: StepStateView; needsMetrics: true };

export class NoStepError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoStepError';
  }
}

/** advance-current-execution: the first WAITING step. */
export function advanceCommand(steps: StepStateView[]): StepCommand {
  const step = steps.find((s) => s.status === 'WAITING');
  if (!step) throw new NoStepError('no step of the current execution is waiting');
  switch (step.action) {
    case 'approval': return { link: 'advance', step, body: { approved: true } };
    case 'managed': return { link: 'advance', step, body: { start: true } };
    case 'schedule': return { link: 'advance', step, body: { type: 'IMMEDIATE' } };
    case 'deploy': return { link: 'advance', step, body: { resume: true } };
    default: return { link: 'advance', step, needsMetrics: true };
  }
}

/** The override body: every failing important metric, whole, with override:true. */
export function overrideBody(metrics: Metric[]): { metrics: Metric[] } {
  return { metrics: metrics.filter((m) => m.severity === 'important' && !m.passed).map((m) => ({ ...m, override: true })) };
}

/** cancel-current-execution: the first step that is neither FINISHED nor INCOMPLETE. */
export function cancelCommand(steps: StepStateView[]): StepCommand {
  const step = steps.find((s) => !isStepDone(s.status));
  if (!step) throw new NoStepError('every step of the current execution has finished');
  if (step.action === 'approval') return { link: 'cancel', step, body: { approved: false } };
  if (step.action === 'managed') return { link: 'cancel', step, body: { start: false } };
  if (step.status === 'WAITING' && step.action === 'deploy') return { link: 'advance', step, body: { resume: false } };
  if (step.status === 'WAITING' && step.action !== 'schedule') return { link: 'cancel', step, body: { override: false } };
  return { link: 'cancel', step, body: { cancel: true } };
}

/** Adobe's CLI names for step logs and quality gates, mapped to a step of the execution. */
export function findStep(steps: StepStateView[], name: string): StepStateView | undefined {
  const byEnv = (env: string) => steps.find((s) => s.action === 'deploy' && s.environmentType === env);
  switch (name) {
    case 'devDeploy': return byEnv('dev');
    case 'stageDeploy': return byEnv('stage');
    case 'prodDeploy': return byEnv('prod');
    case 'security': return steps.find((s) => s.action === 'securityTest');
    case 'performance': return [...steps].reverse().find((s) => ['loadTest', 'assetsTest', 'reportPerformanceTest'].includes(s.action));
    case 'experienceAudit': return steps.find((s) => s.action === 'contentAudit');
    default: return steps.find((s) => s.action === name);
  }
}
