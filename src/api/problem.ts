// application/problem+json errors ({type, title, status, detail, errors?}) and the error
// handler that turns every failure into one: a client's mistake is a 4xx, never a 500.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CommandRefused, PipelineBusyError, TransitionRefused } from '../engine/commands.ts';
import { stampRequestId } from './request-id.ts';

export const PROBLEM_TYPE = 'http://ns.adobe.com/adobecloud/error';
export const VALIDATION_TYPE = 'http://ns.adobe.com/adobecloud/validation-exception';

export interface InvalidParam {
  name: string;
  reason: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number, readonly title: string, detail: string,
    readonly errors?: string[], readonly invalidParams?: InvalidParam[], options?: ErrorOptions,
  ) {
    super(detail, options);
    this.name = 'ApiError';
  }
}

export const notFound = (what: string): ApiError => new ApiError(404, 'Not Found', `${what} not found`);
/** A Cloud Manager route for something only AEM has: its 404 says so, so nobody hunts for a typo. */
export const aemOnly = (feature: string): ApiError =>
  new ApiError(404, 'Not Found', `${feature} are an AEM feature that Slipway does not have`);
export const badRequest = (detail: string, invalidParams?: InvalidParam[]): ApiError =>
  new ApiError(400, 'Bad Request', detail, [detail], invalidParams);
export const forbidden = (detail: string): ApiError => new ApiError(403, 'Forbidden', detail);
export const conflict = (detail: string, status = 409): ApiError =>
  new ApiError(status, status === 412 ? 'Precondition Failed' : 'Conflict', detail, [detail]);

export function sendProblem(reply: FastifyReply, e: ApiError): FastifyReply {
  const body: Record<string, unknown> = {
    type: e.invalidParams ? VALIDATION_TYPE : PROBLEM_TYPE, title: e.title, status: e.status, detail: e.message,
  };
  // Adobe's client prints only `errors` (never `detail`): without it a user reads "(404 Not Found)".
  body.errors = e.errors ?? [e.message];
  if (e.invalidParams) body.invalidParams = e.invalidParams;
  return reply.code(e.status).type('application/problem+json').send(body);
}

/** Maps any thrown value to the problem it stands for. */
export function toApiError(error: unknown): ApiError | undefined {
  if (error instanceof ApiError) return error;
  if (error instanceof PipelineBusyError) return conflict(error.message, 412);
  if (error instanceof CommandRefused) {
    if (error.code === 'BUSY') return conflict(error.message, 412);
    const status = error.code === 'NOT_FOUND' ? 404 : error.code === 'BAD_INPUT' ? 400 : 409;
    return new ApiError(status, status === 404 ? 'Not Found' : status === 400 ? 'Bad Request' : 'Conflict', error.message, [error.message]);
  }
  if (error instanceof TransitionRefused) return conflict(error.message);
  const fe = error as Partial<FastifyError>;
  if (fe.validation) {
    const ctx = fe.validationContext ?? 'request';
    const invalidParams = fe.validation.map((v) => ({
      name: `${ctx}${v.instancePath.replace(/\//g, '.')}${'missingProperty' in v.params ? `.${String(v.params.missingProperty)}` : ''}`,
      reason: v.message ?? 'invalid',
    }));
    return badRequest(`invalid ${ctx}: ${invalidParams.map((p) => `${p.name} ${p.reason}`).join('; ')}`, invalidParams);
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new ApiError(fe.statusCode, fe.code ?? 'Bad Request', fe.message ?? 'bad request', [fe.message ?? 'bad request']);
  }
  return undefined;
}

/**
 * Fastify's `frameworkErrors`: a URL that cannot be decoded is refused before routing (so before
 * any hook); it still gets a problem body and the request id.
 */
export function frameworkProblem(error: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  stampRequestId(req, reply);
  void sendProblem(reply, toApiError(error) ?? badRequest(error.message));
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const problem = toApiError(error);
    if (problem) return sendProblem(reply, problem);
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(reply, new ApiError(500, 'Internal Server Error', 'an unexpected error occurred'));
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, new ApiError(404, 'Not Found', `no route ${request.method} ${request.url.split('?')[0] ?? ''}`)));
}
