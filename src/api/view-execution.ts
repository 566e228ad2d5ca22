// An execution and its step states as Cloud Manager shows them (PipelineExecution,
// PipelineExecutionStepState), with links present exactly when the action is allowed.
import { canAdvance, canCancel, isGate } from '../domain/advance.ts';
import { phaseId } from '../domain/cloud-events.ts';
import type { Environment, Execution, Pipeline, Repository, StepState } from '../domain/model.ts';
import { prodDeployStep, redeployEligibility, reExecuteEligibility } from '../domain/re-execute.ts';
import { PHASE_LABELS } from '../domain/step-labels.ts';
import { isExecutionTerminal, isStepDone, isStepTerminal } from '../domain/transitions.ts';
import { environmentUrlsOf, type EntryPoints } from '../topology/driver.ts';
import { cmTime, compact, link, paths, rel, slipwayRel, type Links } from './hal.ts';

export interface ExecutionView {
  pipeline?: Pipeline;
  repository?: Repository;
  environments: Map<string, Environment>;
  /** Where each ready environment answers (deploy steps show it before they run, as Cloud Manager does). */
  entryPoints?: Map<string, EntryPoints>;
  lastExecutionId?: string;
  /** What the caller may do: links for other actions are left out (none when absent). */
  may?: Access;
}

/** The actions a caller's roles allow on a program (api/auth.ts accessFor). */
export interface Access {
  /** start, advance, cancel, re-execute, redeploy */
  operate: boolean;
  /** advance the managed-oversight step */
  managed: boolean;
}

/** A deploy step's details; one that has not recorded its environment's URLs yet gets the current ones. */
function detailsOf(step: StepState, view: ExecutionView): Record<string, unknown> | undefined {
  const points = step.action === 'deploy' && step.environmentId && step.details.environmentUrls === undefined
    ? view.entryPoints?.get(step.environmentId) : undefined;
  const details = points ? { environmentUrls: environmentUrlsOf(points), ...step.details } : step.details;
  return Object.keys(details).length ? details : undefined;
}

/** A stable numeric id per distinct phase of an execution (see domain/cloud-events.ts phaseId). */
export function phaseIdOf(execution: Execution, step: StepState): string {
  return phaseId(execution.id, execution.steps.map((s) => s.phase), step.phase);
}

const SOURCE_ACTIONS = new Set(['build', 'codeQuality', 'buildImage']);

export function stepStateJson(execution: Execution, step: StepState, view: ExecutionView): Record<string, unknown> {
  const { programId: p, pipelineId: pl, id: e } = execution;
  const phaseId = phaseIdOf(execution, step);
  const self = paths.step(p, pl, e, phaseId, step.id);
  const links: Links = {
    [rel('execution')]: link(paths.execution(p, pl, e)),
    [rel('pipeline')]: link(paths.pipeline(p, pl)),
    [rel('program')]: link(paths.program(p)),
  };
  const started = step.status !== 'NOT_STARTED' || step.startedAt !== undefined;
  if (started) {
    links[rel('pipeline/logs')] = link(`${self}/logs`);
    links[rel('pipeline/metrics')] = link(`${self}/metrics`);
  }
  const may = view.may ?? { operate: false, managed: false };
  if (canAdvance(step) && (step.action === 'managed' ? may.managed : may.operate)) links[rel('pipeline/advance')] = link(`${self}/advance`);
  if (canCancel(step) && may.operate) links[rel('pipeline/cancel')] = link(`${self}/cancel`);
  if (may.operate && prodDeployStep(execution)?.id === step.id && reExecuteEligibility(execution, view.lastExecutionId, step.id).ok) {
    links[rel('pipeline/reExecute')] = link(`${paths.pipeline(p, pl)}/execution?stepId=${step.id}`);
  }
  links.self = link(self);
  const env = step.environmentId ? view.environments.get(step.environmentId) : undefined;
  const commitId = typeof step.details.commitId === 'string' ? step.details.commitId : undefined;
  const source = SOURCE_ACTIONS.has(step.action);
  return compact({
    _links: links,
    id: step.id,
    stepId: step.id,
    phaseId,
    executionId: e,
    pipelineId: pl,
    programId: p,
    action: step.action,
    // Slipway's own: the phase the step belongs to and what its status means, so clients
    // (the web UI) need no copy of the layout, the gate list or the terminal statuses.
    phase: step.phase,
    phaseName: PHASE_LABELS[step.phase],
    gate: isGate(step.action),
    done: isStepDone(step.status),
    ended: isStepTerminal(step.status),
    repository: source ? view.repository?.name : undefined,
    branch: source ? view.pipeline?.branch : undefined,
    environment: env?.name,
    environmentId: step.environmentId,
    environmentType: step.environmentType,
    startedAt: cmTime(step.startedAt),
    finishedAt: cmTime(step.finishedAt),
    updatedAt: cmTime(step.updatedAt),
    commitId,
    details: detailsOf(step, view),
    status: step.status,
    reason: step.reason,
  });
}

/** `PUT` on it redeploys the execution's release (Cloud Manager's start with `sourceExecutionId`). */
export const REDEPLOY_REL = slipwayRel('redeploy');

export function executionJson(execution: Execution, view: ExecutionView): Record<string, unknown> {
  const { programId: p, pipelineId: pl, id: e } = execution;
  const links: Links = {
    [rel('program')]: link(paths.program(p)),
    [rel('pipeline')]: link(paths.pipeline(p, pl)),
  };
  if (view.may?.operate && redeployEligibility(execution, view.lastExecutionId).ok) {
    links[REDEPLOY_REL] = link(`${paths.pipeline(p, pl)}/execution?sourceExecutionId=${e}`);
  }
  links.self = link(paths.execution(p, pl, e));
  return compact({
    _embedded: { stepStates: execution.steps.map((s) => stepStateJson(execution, s, view)) },
    _links: links,
    id: e,
    programId: p,
    pipelineId: pl,
    artifactsVersion: execution.artifactsVersion,
    user: execution.user,
    status: execution.status,
    ended: isExecutionTerminal(execution.status),
    trigger: execution.trigger,
    pipelineExecutionMode: execution.mode,
    pipelineType: 'CI_CD',
    slipwayPipelineType: execution.pipelineType,
    sourceExecutionId: execution.sourceExecutionId,
    createdAt: cmTime(execution.createdAt),
    updatedAt: cmTime(execution.updatedAt),
    finishedAt: cmTime(execution.finishedAt),
  });
}

export function metricsJson(step: StepState): { metrics: Record<string, unknown>[] } {
  return {
    metrics: step.metrics.map((m, i) => ({
      id: String(Number(step.id) * 100 + i),
      severity: m.severity, passed: m.passed, override: m.override,
      actualValue: m.actualValue, expectedValue: m.expectedValue, comparator: m.comparator, kpi: m.kpi,
    })),
  };
}
