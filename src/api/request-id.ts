// Every response carries `x-request-id` (Adobe's client logs it; users quote it in reports):
// Fastify's request id, taken from a sane incoming x-request-id, so a caller's id follows the
// request through the logs, or generated.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export const REQUEST_ID_HEADER = 'x-request-id';
/** Short and printable: an incoming id lands in logs and headers as it is. */
const SANE_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

/** Fastify's genReqId. */
export function requestIdOf(req: IncomingMessage): string {
  const incoming = req.headers[REQUEST_ID_HEADER];
  return typeof incoming === 'string' && SANE_ID.test(incoming) ? incoming : randomUUID();
}

/** Set on the raw response, so replies that bypass Fastify's send (server-sent events) carry it too. */
export function stampRequestId(req: FastifyRequest, reply: FastifyReply): void {
  reply.raw.setHeader(REQUEST_ID_HEADER, req.id);
}

/** Install before any hook that may answer early (auth). */
export function installRequestId(app: FastifyInstance): void {
  app.addHook('onRequest', async (req, reply) => stampRequestId(req, reply));
}
