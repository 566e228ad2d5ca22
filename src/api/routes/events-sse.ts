// Server-sent events of one execution: a `snapshot` (the execution JSON) first, then each
// event from the bus as it happens, a heartbeat comment every 15 s; the stream ends after
// `execution.ended` (or right after the snapshot when the execution is already over).
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { SlipwayEvent } from '../../events/bus.ts';
import { authorize } from '../auth.ts';
import type { ApiDeps } from '../deps.ts';
import { executionView, loadExecution, loadPipeline } from '../load.ts';
import { idParams } from '../schemas.ts';
import { executionJson } from '../view-execution.ts';

export const HEARTBEAT_MS = 15_000;

export function sseFrame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export function eventRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const open = new Set<ServerResponse>();
  app.addHook('preClose', async () => {
    for (const res of open) res.end();
  });

  type Params = { programId: string; pipelineId: string; executionId: string };
  app.get<{ Params: Params }>('/api/program/:programId/pipeline/:pipelineId/execution/:executionId/events', {
    schema: { params: idParams('programId', 'pipelineId', 'executionId'), summary: 'Server-sent events of the execution (text/event-stream)' },
  }, async (req, reply) => {
    await authorize(req, deps, req.params.programId, 'read');
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
    const snapshot = executionJson(execution, await executionView(deps, pipeline));
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
    sink.deliver = (e) => {
      res.write(sseFrame(e.type, e));
      if (e.type === 'execution.ended') finish();
    };
    for (const e of queued.splice(0)) sink.deliver(e);
  });
}
