// The HAL shapes Slipway (and Cloud Manager) answer with, and the few helpers clients need to
// follow links instead of building URLs.
import type { ExecutionStatus, StepStatus } from '../domain/model.ts';
import { isExecutionTerminal, isStepDone as domainStepDone } from '../domain/transitions.ts';

export const REL = 'http://ns.adobe.com/adobecloud/rel/';
export const rel = {
  pipelines: `${REL}pipelines`,
  environments: `${REL}environments`,
  execution: `${REL}execution`,
  executionId: `${REL}execution/id`,
  executions: `${REL}executions`,
  variables: `${REL}variables`,
  advance: `${REL}pipeline/advance`,
  cancel: `${REL}pipeline/cancel`,
  reExecute: `${REL}pipeline/reExecute`,
  rollback: `${REL}rollbackLastSuccessfulExecution`,
  logs: `${REL}pipeline/logs`,
  metrics: `${REL}pipeline/metrics`,
  /** Slipway's own: redeploy an earlier execution's release (a rollback). */
  redeploy: 'http://ns.slipway.dev/rel/redeploy',
} as const;

export interface HalLink {
  href: string;
  templated?: boolean;
}

export interface HalResource {
  _links?: Record<string, HalLink | HalLink[] | undefined>;
  _embedded?: Record<string, unknown>;
}

export interface Program extends HalResource {
  id: string;
  name: string;
  enabled?: boolean;
  createdAt?: string;
}

export interface Pipeline extends HalResource {
  id: string;
  programId: string;
  name: string;
  status?: string;
  trigger?: string;
  type?: string;
  lastStartedAt?: string;
  lastFinishedAt?: string;
}

export interface Metric {
  id?: string;
  kpi: string;
  severity: string;
  passed: boolean;
  override: boolean;
  actualValue: string;
  expectedValue: string;
  comparator: string;
}

export interface StepStateView extends HalResource {
  id: string;
  stepId?: string;
  phaseId?: string;
  action: string;
  status: string;
  environmentType?: string;
  environment?: string;
  startedAt?: string;
  finishedAt?: string;
  reason?: string;
  details?: Record<string, unknown>;
}

export interface ExecutionView extends HalResource {
  id: string;
  programId: string;
  pipelineId: string;
  status: string;
  trigger: string;
  user?: string;
  artifactsVersion?: string;
  sourceExecutionId?: string;
  pipelineExecutionMode?: string;
  createdAt?: string;
  finishedAt?: string;
}

export interface EnvironmentView extends HalResource {
  id: string;
  name: string;
  type: string;
  status: string;
  region?: string;
  description?: string;
}

export interface VariableView {
  name: string;
  value?: string;
  type: string;
  service?: string;
  status?: string;
}

export function linkOf(resource: HalResource | undefined, relation: string): string | undefined {
  const link = resource?._links?.[relation];
  const first = Array.isArray(link) ? link[0] : link;
  return first?.href;
}

/** Expands a simple RFC 6570 template ({name} and {?a,b} forms are all the API uses). */
export function expandTemplate(href: string, values: Record<string, string | number>): string {
  return href
    .replace(/\{\?([^}]+)\}/g, (_m, names: string) => {
      const parts = names.split(',').filter((n) => values[n] !== undefined)
        .map((n) => `${n}=${encodeURIComponent(String(values[n]))}`);
      return parts.length ? `?${parts.join('&')}` : '';
    })
    .replace(/\{([^}]+)\}/g, (_m, name: string) => encodeURIComponent(String(values[name] ?? '')));
}

export function embedded<T>(resource: HalResource | undefined, key: string): T[] {
  const list = resource?._embedded?.[key];
  return Array.isArray(list) ? (list as T[]) : [];
}

export const stepsOf = (execution: ExecutionView): StepStateView[] => embedded<StepStateView>(execution, 'stepStates');

// The API's statuses are the domain's: the CLI asks the domain's own rules (pure, no I/O).
export const isStepDone = (status: string): boolean => domainStepDone(status as StepStatus);
export const hasEnded = (execution: { status: string }): boolean => isExecutionTerminal(execution.status as ExecutionStatus);
