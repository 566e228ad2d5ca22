// Webhook subscriptions of a program (operators change them, members read them), their recent
// deliveries and a redeliver action. An endpoint must answer Adobe I/O's challenge before it
// is subscribed (and again when its URL changes). The secret is never returned.
import type { FastifyInstance } from 'fastify';
import { EVENT_KINDS, type EventKind } from '../../domain/cloud-events.ts';
import { challengeProblem, webhookUrlProblem } from '../../events/webhook-http.ts';
import { getDelivery, listDeliveries, redeliver, type Delivery } from '../../store/deliveries.ts';
import { createWebhook, deleteWebhook, getWebhook, listWebhooks, updateWebhook, type Webhook } from '../../store/webhooks.ts';
import { authorize } from '../auth.ts';
import { baseUrlOf, type ApiDeps } from '../deps.ts';
import { cmTime, compact, link, list, paths, rel } from '../hal.ts';
import { loadProgram } from '../load.ts';
import { badRequest, notFound } from '../problem.ts';
import { idParams } from '../schemas.ts';

const webhookPath = (p: string, w?: string) => `${paths.program(p)}/webhooks${w ? `/${w}` : ''}`;

const fields = {
  url: { type: 'string', minLength: 1, maxLength: 2048 },
  secret: { type: 'string', minLength: 8, maxLength: 256 },
  events: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', enum: EVENT_KINDS } },
  enabled: { type: 'boolean' },
} as const;

function webhookJson(w: Webhook): Record<string, unknown> {
  const self = webhookPath(w.programId, w.id);
  return {
    id: w.id, programId: w.programId, url: w.url, events: w.events, enabled: w.enabled,
    createdAt: cmTime(w.createdAt), updatedAt: cmTime(w.updatedAt),
    _links: { self: link(self), deliveries: link(`${self}/deliveries`), [rel('program')]: link(paths.program(w.programId)) },
  };
}

function deliveryJson(w: Webhook, d: Delivery): Record<string, unknown> {
  const self = `${webhookPath(w.programId, w.id)}/deliveries/${d.id}`;
  return compact({
    id: d.id, status: d.status, attempts: d.attempts, responseCode: d.responseCode, error: d.error,
    eventCursor: String(d.eventSeq), executionId: d.executionId,
    createdAt: cmTime(d.createdAt), lastAttemptAt: cmTime(d.lastAttemptAt), deliveredAt: cmTime(d.deliveredAt),
    nextAttemptAt: d.status === 'pending' ? cmTime(d.nextAttemptAt) : undefined,
    _links: { self: link(self), redeliver: link(`${self}/redeliver`) },
  });
}

/** Refuses a URL that is not http(s) or that does not answer the challenge (400 naming the URL). */
async function verifyEndpoint(url: string): Promise<void> {
  const problem = webhookUrlProblem(url) ?? await challengeProblem(url);
  if (problem) throw badRequest(problem, [{ name: 'body.url', reason: problem }]);
}

export function webhookRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const db = deps.slipway.rt.db.kysely;
  type P = { programId: string };
  type W = P & { webhookId: string };
  const base = '/api/program/:programId/webhooks';

  async function load(programId: string, webhookId: string): Promise<Webhook> {
    const w = await getWebhook(db, webhookId, programId);
    if (!w) throw notFound(`webhook ${webhookId} of program ${programId}`);
    return w;
  }

  app.post<{ Params: P; Body: { url: string; secret: string; events?: EventKind[] } }>(base, {
    schema: {
      params: idParams('programId'), summary: 'Subscribe a URL to the program\'s events (it must answer GET ?challenge=X with X)',
      body: { type: 'object', required: ['url', 'secret'], additionalProperties: false, properties: { url: fields.url, secret: fields.secret, events: fields.events } },
    },
  }, async (req, reply) => {
    const program = await loadProgram(deps, req.params.programId);
    await authorize(req, deps, program.id, 'operate');
    await verifyEndpoint(req.body.url);
    const w = await createWebhook(db, deps.slipway.rt.secrets, { programId: program.id, url: req.body.url, secret: req.body.secret, events: req.body.events ?? [...EVENT_KINDS] });
    return reply.code(201).header('location', `${baseUrlOf(deps, req)}${webhookPath(program.id, w.id)}`).send(webhookJson(w));
  });

  app.get<{ Params: P }>(base, { schema: { params: idParams('programId') } }, async (req) => {
    const program = await loadProgram(deps, req.params.programId);
    await authorize(req, deps, program.id, 'read');
    return list('webhooks', (await listWebhooks(db, program.id)).map(webhookJson), webhookPath(program.id));
  });

  const one = `${base}/:webhookId`;
  app.get<{ Params: W }>(one, { schema: { params: idParams('programId', 'webhookId') } }, async (req) => {
    await authorize(req, deps, req.params.programId, 'read');
    return webhookJson(await load(req.params.programId, req.params.webhookId));
  });

  app.patch<{ Params: W; Body: { url?: string; secret?: string; events?: EventKind[]; enabled?: boolean } }>(one, {
    schema: { params: idParams('programId', 'webhookId'), body: { type: 'object', additionalProperties: false, properties: fields } },
  }, async (req) => {
    await authorize(req, deps, req.params.programId, 'operate');
    const w = await load(req.params.programId, req.params.webhookId);
    if (req.body.url !== undefined && req.body.url !== w.url) await verifyEndpoint(req.body.url);
    await updateWebhook(db, deps.slipway.rt.secrets, w, req.body);
    return webhookJson(await load(w.programId, w.id));
  });

  app.delete<{ Params: W }>(one, { schema: { params: idParams('programId', 'webhookId') } }, async (req, reply) => {
    await authorize(req, deps, req.params.programId, 'operate');
    const w = await load(req.params.programId, req.params.webhookId);
    await deleteWebhook(db, w.id);
    return reply.code(204).send();
  });

  app.get<{ Params: W; Querystring: { limit: number } }>(`${one}/deliveries`, {
    schema: {
      params: idParams('programId', 'webhookId'), summary: 'The subscription\'s recent deliveries, newest first',
      querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 } } },
    },
  }, async (req) => {
    await authorize(req, deps, req.params.programId, 'read');
    const w = await load(req.params.programId, req.params.webhookId);
    return list('deliveries', (await listDeliveries(db, w.id, req.query.limit)).map((d) => deliveryJson(w, d)), `${webhookPath(w.programId, w.id)}/deliveries`);
  });

  app.post<{ Params: W & { deliveryId: string } }>(`${one}/deliveries/:deliveryId/redeliver`, {
    schema: { params: idParams('programId', 'webhookId', 'deliveryId'), summary: 'Send the delivery\'s event again (202)' },
  }, async (req, reply) => {
    await authorize(req, deps, req.params.programId, 'operate');
    const w = await load(req.params.programId, req.params.webhookId);
    const d = await getDelivery(db, req.params.deliveryId, w.id);
    if (!d) throw notFound(`delivery ${req.params.deliveryId} of webhook ${w.id}`);
    await redeliver(db, d.id, deps.slipway.rt.clock.now());
    deps.slipway.webhooks?.poke();
    return reply.code(202).send();
  });
}
