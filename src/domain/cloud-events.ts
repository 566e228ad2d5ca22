// Cloud Manager's pipeline events (Adobe I/O Events shape, events.yaml): which state changes
// become events, and the JSON a consumer receives. Pure: ids, times and the base URL come in.
import type { EnvironmentType, ExecutionStatus, StepAction, StepStatus } from './model.ts';

const NS = 'https://ns.adobe.com/experience/cloudmanager';
export const EVENT_TYPE = { started: `${NS}/event/started`, waiting: `${NS}/event/waiting`, ended: `${NS}/event/ended` } as const;
export const OBJECT_TYPE = { execution: `${NS}/pipeline-execution`, step: `${NS}/execution-step-state` } as const;

/** The events a webhook can subscribe to (Slipway's names for Cloud Manager's five). */
export const EVENT_KINDS = ['execution.started', 'execution.ended', 'step.started', 'step.waiting', 'step.ended'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** Cloud Manager documents no start event for these steps (Cloud Manager's event reference). */
const SILENT_START: readonly StepAction[] = ['codeQuality', 'approval', 'schedule', 'managed'];

export const isEventKind = (type: string): type is EventKind => (EVENT_KINDS as readonly string[]).includes(type);

/** Whether a state change of this kind (and step action) is published as an event. */
export function publishes(kind: string, action?: StepAction): kind is EventKind {
  if (!isEventKind(kind)) return false;
  return !(kind === 'step.started' && action !== undefined && SILENT_START.includes(action));
}

/** A stable numeric id per distinct phase of an execution: execution id × 10 + phase position. */
export function phaseId(executionId: string, phasesInOrder: readonly string[], phase: string): string {
  const distinct: string[] = [];
  for (const p of phasesInOrder) if (!distinct.includes(p)) distinct.push(p);
  return String(Number(executionId) * 10 + distinct.indexOf(phase) + 1);
}

export const executionPath = (p: string, pl: string, e: string): string => `/api/program/${p}/pipeline/${pl}/execution/${e}`;
export const stepPath = (p: string, pl: string, e: string, ph: string, s: string): string =>
  `${executionPath(p, pl, e)}/phase/${ph}/step/${s}`;

/** What the journal keeps of one event; rendered with the base URL when read or delivered. */
export interface EventRecord {
  eventId: string;
  kind: EventKind;
  programId: string;
  pipelineId: string;
  executionId: string;
  stepId?: string;
  /** The path of the execution or step state (relative to Slipway's base URL). */
  objectPath: string;
  /** Epoch milliseconds. */
  published: number;
  /** The program's tenant (Cloud Manager: the IMS organisation). */
  org: string;
  /** Who started the execution; Cloud Manager names the actor on the start event only. */
  actor?: string;
  action?: StepAction;
  status: ExecutionStatus | StepStatus;
  environment?: EnvironmentType;
}

/** The JSON posted to webhooks and returned by the journal. */
export function cloudManagerEvent(r: EventRecord, baseUrl: string): Record<string, unknown> {
  const isExecution = r.kind.startsWith('execution.');
  const objectType = isExecution ? OBJECT_TYPE.execution : OBJECT_TYPE.step;
  const verb = r.kind.split('.')[1] as keyof typeof EVENT_TYPE;
  const event: Record<string, unknown> = {
    '@id': `urn:oeid:cloudmanager:${r.eventId}`,
    '@type': EVENT_TYPE[verb],
    'xdmEventEnvelope:objectType': objectType,
    'activitystreams:published': new Date(r.published).toISOString(),
    'activitystreams:to': { '@type': 'xdmImsOrg', 'xdmImsOrg:id': r.org },
  };
  if (r.kind === 'execution.started' && r.actor) {
    event['activitystreams:actor'] = { '@type': 'xdmImsUser', 'xdmImsUser:id': r.actor };
  }
  event['activitystreams:object'] = { '@id': `${baseUrl.replace(/\/+$/, '')}${r.objectPath}`, '@type': objectType };
  // Slipway's extras ride along under their own key, so Cloud Manager's shape stays exact.
  const slipway: Record<string, unknown> = {
    type: r.kind, programId: r.programId, pipelineId: r.pipelineId, executionId: r.executionId, status: r.status,
  };
  if (r.stepId) slipway.stepId = r.stepId;
  if (r.action) slipway.action = r.action;
  if (r.environment) slipway.environment = r.environment;
  return { event_id: r.eventId, event, slipway };
}

/** Delay before retry `attempt` (1-based): exponential, capped, with jitter from `random` (0..1). */
export function retryDelayMs(attempt: number, baseMs: number, capMs: number, random: number): number {
  const exp = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp * (0.75 + random * 0.5));
}
