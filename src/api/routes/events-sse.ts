// Server-sent events of one execution: a `snapshot` (the execution JSON) first, then each
// event from the bus as it happens, carrying what changed: a step event its `stepState` (the
// step's JSON, as GET …/step/:id answers it), an execution event the whole `execution`; a
// heartbeat comment every 15 s; the stream ends after `execution.ended` (or right after the
// snapshot when the execution is already over). All the streams of a process share one read
// per event, however many browsers watch.
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { SlipwayEvent } from '../../events/bus.ts';
import type { Execution, Pipeline } from '../../domain/model.ts';
import { accessFor, authorize } from '../auth.ts';
import type { ApiDeps } from '../deps.ts';
import { executionView, loadExecution, loadPipeline } from '../load.ts';
import { idParams } from '../schemas.ts';
import { executionJson, stepStateJson, type Access, type ExecutionView } from '../view-execution.ts';

export const HEARTBEAT_MS = 15_000;

export function sseFrame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

interface Read { execution: Execution; view: ExecutionView }

/**
 * The state after an event, read once for every stream that receives it: keyed by the event
 * itself (the bus hands each subscriber the same object), so a read is never older than the
 * commit that announced it.
 */
function sharedReader(deps: ApiDeps): (e: SlipwayEvent, pipeline: Pipeline) => Promise<Read> {
  const reads = new WeakMap<SlipwayEvent, Promise<Read>>();
  return (e, pipeline) => {
    let read = reads.get(e);
    if (!read) {
      read = Promise.all([loadExecution(deps, pipeline.programId, pipeline.id, e.executionId), executionView(deps, pipeline)])
        .then(([execution, view]) => ({ execution, view }));
      reads.set(e, read);
    }
    return read;
  };
}

/** The event with what changed, in the caller's view (its links). */
function frameOf(e: SlipwayEvent, { execution, view }: Read, may: Access): string {
  const seen = { ...view, may };
  if (!('stepId' in e)) return sseFrame(e.type, { ...e, execution: executionJson(execution, seen) });
  const step = execution.steps.find((s) => s.id === e.stepId);
  return sseFrame(e.type, step ? { ...e, stepState: stepStateJson(execution, step, seen) } : e);
}

export function eventRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const open = new Set<ServerResponse>();
  const readAfter = sharedReader(deps);
  app.addHook('preClose', async () => {
    for (const res of open) res.end();
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
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
    open.add(res);
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), HEARTBEAT_MS);
    const finish = () => {
      clearInterval(heartbeat);
      unsubscribe();
      open.delete(res);
      if (!res.writableEnded) res.end();
    };
    res.on('close', finish);
    res.write(sseFrame('snapshot', snapshot));
    if (execution.finishedAt) return finish();
    // Frames go out in the order of the events, each once its shared read is done.
    let written = Promise.resolve();
    sink.deliver = (e) => {
      const read = readAfter(e, pipeline);
      written = written.then(async () => {
        if (res.writableEnded) return;
        const frame = await read.then((r) => frameOf(e, r, may), () => sseFrame(e.type, e));
        res.write(frame);
        if (e.type === 'execution.ended') finish();
      }).catch((err: unknown) => {
        // A frame that cannot be written ends this stream; the client reconnects and reads a snapshot.
        req.log.warn({ err }, 'event stream frame failed');
        finish();
      });
    };
    for (const e of queued.splice(0)) sink.deliver(e);
  });
}
