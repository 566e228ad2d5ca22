// GET /api/openapi.json: an OpenAPI 3 document generated from the routes' own JSON schemas,
// so it cannot drift from what the server validates.
import type { FastifyInstance, RouteOptions } from 'fastify';
import { ApiError } from '../problem.ts';

declare module 'fastify' {
  interface FastifySchema {
    /** One line for the OpenAPI document. */
    summary?: string;
  }
}

interface Collected {
  method: string;
  url: string;
  schema: Record<string, unknown>;
}

type JsonSchema = { properties?: Record<string, unknown>; required?: readonly string[] };

const PUBLIC = new Set(['/api/health', '/logs/{stepId}/{file}', '/artifacts/{stepId}/{artifactId}',
  '/environment-logs/{environmentId}/{key}', '/environment-logs-gz/{environmentId}/{key}']);

/** Starts recording routes; call before the routes are registered. */
export function collectRoutes(app: FastifyInstance): Collected[] {
  const routes: Collected[] = [];
  app.addHook('onRoute', (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (method === 'HEAD' || route.url.includes('*')) continue;
      routes.push({ method: method.toLowerCase(), url: route.url, schema: (route.schema ?? {}) as Record<string, unknown> });
    }
  });
  return routes;
}

function parameters(schema: unknown, where: 'path' | 'query'): Record<string, unknown>[] {
  const s = schema as JsonSchema | undefined;
  return Object.entries(s?.properties ?? {}).map(([name, sch]) => ({
    name, in: where, required: where === 'path' || (s?.required ?? []).includes(name), schema: sch,
  }));
}

const problem = { description: 'Problem', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };

export function openApiDocument(routes: Collected[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.url.replace(/:([A-Za-z]+)/g, '{$1}');
    const op: Record<string, unknown> = {
      operationId: `${r.method}${path.replace(/[{}]/g, '').replace(/\/([a-z])/g, (_, c: string) => c.toUpperCase()).replace(/[^A-Za-z0-9]/g, '')}`,
      summary: typeof r.schema.summary === 'string' ? r.schema.summary : undefined,
      parameters: [...parameters(r.schema.params, 'path'), ...parameters(r.schema.querystring, 'query')],
      responses: { default: { description: 'HAL JSON (application/json)' }, 400: problem, 401: problem, 403: problem, 404: problem },
    };
    if (r.schema.body !== undefined) op.requestBody = { required: false, content: { 'application/json': { schema: r.schema.body } } };
    if (PUBLIC.has(path)) op.security = [];
    paths[path] = { ...paths[path], [r.method]: op };
  }
  return {
    openapi: '3.0.3',
    info: { title: 'Slipway API (Cloud Manager-compatible)', version: '1.0.0' },
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        Problem: {
          type: 'object',
          properties: { type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' }, errors: { type: 'array', items: { type: 'string' } } },
        },
      },
    },
    paths,
  };
}

export function openApiRoutes(app: FastifyInstance, routes: Collected[]): void {
  let doc: Record<string, unknown> | undefined;
  app.get('/api/openapi.json', { schema: { summary: 'This document' } }, async () => {
    doc ??= openApiDocument(routes);
    if (!doc) throw new ApiError(500, 'Internal Server Error', 'no document');
    return doc;
  });
}
