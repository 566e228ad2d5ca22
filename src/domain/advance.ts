// What a person's advance or cancel body means for a step, with Cloud Manager's bodies
// (Cloud Manager's API reference: the advance and cancel bodies of each step). Pure: returns the step event to apply or a typed refusal.
import { z } from 'zod';
import type { Metric, StepState } from './model.ts';
import { applyOverride } from './quality-gate.ts';
import type { StepEvent } from './transitions.ts';

export interface Decision {
  ok: true;
  event: StepEvent;
  /** For a scheduled deployment: when it starts. */
  scheduledAt?: Date;
  /** Metrics with the overrides applied. */
  metrics?: Metric[];
}
export interface AdvanceRefusal {
  ok: false;
  code: 'NOT_WAITING' | 'NOT_RUNNING' | 'BAD_INPUT' | 'METRICS_NOT_OVERRIDDEN';
  message: string;
}
export type AdvanceDecision = Decision | AdvanceRefusal;

const GATE_ACTIONS: ReadonlySet<string> = new Set(['codeQuality', 'securityTest', 'loadTest']);
/** A quality gate: its metrics may stop the execution or wait for an override. */
export const isGate = (action: string): boolean => GATE_ACTIONS.has(action);

const approvedBody = z.object({ approved: z.boolean() }).passthrough();
const scheduleBody = z.discriminatedUnion('type', [
  z.object({ type: z.literal('IMMEDIATE') }).passthrough(),
  z.object({ type: z.literal('SCHEDULED'), schedule: z.string().datetime({ offset: true }) }).passthrough(),
]);
const resumeBody = z.object({ resume: z.boolean() }).passthrough();
const startBody = z.object({ start: z.boolean() }).passthrough();

const refuse = (code: AdvanceRefusal['code'], message: string): AdvanceRefusal => ({ ok: false, code, message });

/** The body as `schema` reads it, or a BAD_INPUT refusal that says what was expected. */
function parseBody<T>(schema: z.ZodType<T>, body: unknown, expected: string): T | AdvanceRefusal {
  const parsed = schema.safeParse(body);
  return parsed.success ? parsed.data : refuse('BAD_INPUT', `expected ${expected}`);
}
const isRefusal = (x: unknown): x is AdvanceRefusal =>
  typeof x === 'object' && x !== null && (x as { ok?: unknown }).ok === false;

/** The meaning of `PUT …/advance` with `body` on `step`. */
export function decideAdvance(step: StepState, body: unknown): AdvanceDecision {
  if (step.status !== 'WAITING') return refuse('NOT_WAITING', `step ${step.action} is ${step.status}, not WAITING`);
  if (isGate(step.action)) {
    const result = applyOverride(step.metrics, body);
    if (result.ok) return { ok: true, event: 'advance', metrics: result.metrics };
    return refuse(result.refused === 'incomplete' ? 'METRICS_NOT_OVERRIDDEN' : 'BAD_INPUT', result.message);
  }
  switch (step.action) {
    case 'approval': {
      const b = parseBody(approvedBody, body, '{"approved":true|false}');
      return isRefusal(b) ? b : { ok: true, event: b.approved ? 'advance' : 'reject' };
    }
    case 'schedule': {
      const b = parseBody(scheduleBody, body, '{"type":"IMMEDIATE"} or {"type":"SCHEDULED","schedule":ISO-8601}');
      if (isRefusal(b)) return b;
      if (b.type === 'IMMEDIATE') return { ok: true, event: 'advance' };
      return { ok: true, event: 'wait', scheduledAt: new Date(b.schedule) };
    }
    case 'managed': {
      const b = parseBody(startBody, body, '{"start":true|false}');
      return isRefusal(b) ? b : { ok: true, event: b.start ? 'advance' : 'reject' };
    }
    case 'deploy': {
      const b = parseBody(resumeBody, body, '{"resume":true|false}');
      return isRefusal(b) ? b : { ok: true, event: b.resume ? 'resume' : 'reject' };
    }
    default:
      return refuse('BAD_INPUT', `step ${step.action} cannot be advanced`);
  }
}

/**
 * The meaning of `PUT …/cancel` with `body` on `step`. Clients differ (the JS library sends
 * `{resume:false}` to advance, the Java library to cancel), so every refusal body is accepted.
 */
export function decideCancel(step: StepState, body: unknown): AdvanceDecision {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const rejects = b.override === false || b.approved === false || b.resume === false || b.start === false;
  if (step.status === 'WAITING') return { ok: true, event: rejects ? 'reject' : 'cancel' };
  if (step.status === 'RUNNING' || step.status === 'NOT_STARTED') return { ok: true, event: 'cancel' };
  return refuse('NOT_RUNNING', `step ${step.action} is ${step.status} and cannot be cancelled`);
}

/** Whether the API offers the advance link. */
export const canAdvance = (step: StepState): boolean => step.status === 'WAITING';
/** Whether the API offers the cancel link. */
export const canCancel = (step: StepState): boolean => step.status === 'WAITING' || step.status === 'RUNNING';
