// Server-sent events of a whole program, for its lists (pipelines, history, environments):
// each execution, step and environment event of the program as it happens, with what a list
// needs to update itself without a refetch: the pipeline's status and current execution, the
// execution's status and the step that is running or waiting, and for a deploy step each
// node's latest command (so the environments view shows a roll as it happens). (`…/events` itself is the
// journal of Cloud Manager events, events-journal.ts: hence `…/events/stream`.) No snapshot: a client reads
// its list once the stream is open (subscribed before the headers go out), and again after a
// reconnect. A heartbeat comment every 15 s. All the streams share one read per event.
import type { FastifyInstance } from 'fastify';
import { isGate } from '../../domain/advance.ts';
import type { Execution, StepState } from '../../domain/model.ts';
import type { EnvironmentEvent, SlipwayEvent } from '../../events/bus.ts';
import { getExecution } from '../../store/executions.ts';
import { authorize } from '../auth.ts';
import type { ApiDeps } from '../deps.ts';
import { cmTime, compact } from '../hal.ts';
import { loadProgram } from '../load.ts';
import { idParams } from '../schemas.ts';
import { openEventStream, sharedReader, sseFrame, streamsClosedOnShutdown } from '../sse.ts';
import { pipelineStatus } from '../view-pipeline.ts';

/** A deploy step's release and each node's latest command (drain, deploy, warm, attach…). */
function rolloutOf(step: StepState): Record<string, unknown> | undefined {
  const rollout = step.details.rollout as { version?: unknown; environmentId?: unknown; nodes?: unknown } | undefined;
  if (step.action !== 'deploy' || !rollout || typeof rollout !== 'object') return undefined;
  return { version: rollout.version, nodes: rollout.nodes ?? {} };
}

function stepSummary(step: StepState): Record<string, unknown> {
  return compact({
    rollout: rolloutOf(step),
    id: step.id, action: step.action, status: step.status, gate: isGate(step.action) || undefined, environmentType: step.environmentType,
    environmentId: step.environmentId, reason: step.reason, pauseBeforeRun: step.pauseBeforeRun || undefined,
    wakeAt: cmTime(step.wakeAt),
  });
}

/**
 * The event with the state after it. An event's execution is its pipeline's latest (a
 * pipeline runs one execution at a time), so the pipeline's status follows from it.
 */
export function programFrameData(e: SlipwayEvent, execution: Execution | undefined): Record<string, unknown> {
  if (!execution) return e;
  const status = pipelineStatus(execution);
  const current = execution.steps.find((s) => s.status === 'WAITING') ?? execution.steps.find((s) => s.status === 'RUNNING');
  const step = 'stepId' in e ? execution.steps.find((s) => s.id === e.stepId) : undefined;
  return compact({
    ...e,
    pipeline: compact({
      id: execution.pipelineId, status, lastStartedAt: cmTime(execution.createdAt), lastFinishedAt: cmTime(execution.finishedAt),
      currentExecutionId: status === 'IDLE' ? undefined : execution.id,
    }),
    execution: compact({
      id: execution.id, pipelineId: execution.pipelineId, status: execution.status, trigger: execution.trigger, user: execution.user,
      createdAt: cmTime(execution.createdAt), finishedAt: cmTime(execution.finishedAt), artifactsVersion: execution.artifactsVersion,
      currentStep: current ? stepSummary(current) : undefined,
    }),
    step: step ? stepSummary(step) : undefined,
  });
}

export function programEventRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const open = streamsClosedOnShutdown(app);
  const db = deps.slipway.rt.db.kysely;
  const readAfter = sharedReader(async (e: SlipwayEvent) => sseFrame(e.type, programFrameData(e, await getExecution(db, e.executionId))));

  app.get<{ Params: { programId: string } }>('/api/program/:programId/events/stream', {
    schema: { params: idParams('programId'), summary: 'Server-sent events of the program\'s pipelines, executions and environments (text/event-stream)' },
  }, async (req, reply) => {
    await authorize(req, deps, req.params.programId, 'read');
    const program = await loadProgram(deps, req.params.programId);
    const { bus } = deps.slipway.rt;
    // Subscribed in the same tick as the headers are queued: no event can slip in between.
    const unsubscribe: (() => void)[] = [];
    const stream = openEventStream(reply, open, req.log, () => unsubscribe.forEach((u) => u()));
    unsubscribe.push(
      bus.subscribe((e) => {
        if (e.programId !== program.id) return;
        // A frame that cannot be read is sent bare; the client refetches after a reconnect anyway.
        stream.send(readAfter(e).catch(() => sseFrame(e.type, e)));
      }),
      bus.subscribeEnvironments((e: EnvironmentEvent) => {
        if (e.programId === program.id) stream.send(sseFrame(e.type, e));
      }),
    );
  });
}
