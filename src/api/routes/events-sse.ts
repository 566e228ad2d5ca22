// Server-sent events of one execution: a `snapshot` (the execution JSON) first, then each
// event from the bus as it happens, carrying what changed: a step event its `stepState` (the
// step's JSON, as GET …/step/:id answers it), an execution event the whole `execution`; a
// heartbeat comment every 15 s; the stream ends after `execution.ended` (or right after the
// snapshot when the execution is already over). All the streams of a process share one read
// per event, however many browsers watch.
import type { FastifyInstance } from 'fastify';
import type { SlipwayEvent } from '../../events/bus.ts';
import type { Execution, Pipeline } from '../../domain/model.ts';
import { accessFor, authorize } from '../auth.ts';
import type { ApiDeps } from '../deps.ts';
import { executionView, loadExecution, loadPipeline } from '../load.ts';
import { idParams } from '../schemas.ts';
import { openEventStream, sharedReader, sseFrame, streamsClosedOnShutdown } from '../sse.ts';
import { executionJson, stepStateJson, type Access, type ExecutionView } from '../view-execution.ts';

interface Read { execution: Execution; view: ExecutionView }

/** The event with what changed, in the caller's view (its links). */
function frameOf(e: SlipwayEvent, { execution, view }: Read, may: Access): string {
  const seen = { ...view, may };
  if (!('stepId' in e)) return sseFrame(e.type, { ...e, execution: executionJson(execution, seen) });
  const step = execution.steps.find((s) => s.id === e.stepId);
  return sseFrame(e.type, step ? { ...e, stepState: stepStateJson(execution, step, seen) } : e);
}

export function eventRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const open = streamsClosedOnShutdown(app);
  const readAfter = sharedReader(async (e: SlipwayEvent, pipeline: Pipeline): Promise<Read> => {
    const [execution, view] = await Promise.all([loadExecution(deps, pipeline.programId, pipeline.id, e.executionId), executionView(deps, pipeline)]);
    return { execution, view };
  });

  type Params = { programId: string; pipelineId: string; executionId: string };
  app.get<{ Params: Params }>('/api/program/:programId/pipeline/:pipelineId/execution/:executionId/events', {
    schema: { params: idParams('programId', 'pipelineId', 'executionId'), summary: 'Server-sent events of the execution (text/event-stream)' },
  }, async (req, reply) => {
    await authorize(req, deps, req.params.programId, 'read');
    const may = await accessFor(req, deps, req.params.programId);
    const pipeline = await loadPipeline(deps, req.params.programId, req.params.pipelineId);
    const executionId = req.params.executionId;
    // Subscribe before reading the snapshot so nothing between the two is lost.
    const queued: SlipwayEvent[] = [];
    const sink: { deliver?: (e: SlipwayEvent) => void } = {};
    const unsubscribe = deps.slipway.rt.bus.subscribe((e) => {
      if (e.executionId !== executionId) return;
      if (sink.deliver) sink.deliver(e);
      else queued.push(e);
    });
    let execution;
    try {
      execution = await loadExecution(deps, pipeline.programId, pipeline.id, executionId);
    } catch (e) {
      unsubscribe();
      throw e;
    }
    const snapshot = executionJson(execution, await executionView(deps, pipeline, may));
    const stream = openEventStream(reply, open, req.log, unsubscribe);
    const over = execution.finishedAt !== undefined;
    stream.send(sseFrame('snapshot', snapshot), over ? () => stream.end() : undefined);
    if (over) return;
    // A frame that cannot be read is sent bare; the client reads a snapshot when it reconnects.
    sink.deliver = (e) => stream.send(
      readAfter(e, pipeline).then((r) => frameOf(e, r, may), () => sseFrame(e.type, e)),
      e.type === 'execution.ended' ? () => stream.end() : undefined,
    );
    for (const e of queued.splice(0)) sink.deliver(e);
  });
}
