// Environment logs, as Cloud Manager serves them: `…/logs?service&name&days` lists one
// download per log and UTC day (newest first) with a `logs/download` link per node, and on
// today's a `logs/tail` link; `…/logs/download` answers a signed URL ({redirect} or 307) to the
// day's file, gzip-compressed; the tail URL serves the file as it grows, with HEAD and Range
// (206 / 416), which is how Adobe's client tails it. Both signed URLs need no credentials.
import { createReadStream } from 'node:fs';
import { createGzip } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import type { Environment } from '../../domain/model.ts';
import { getEnvironment } from '../../store/environments.ts';
import { lastDays, type EnvironmentLogs, type LogOption, type NodeLogDay } from '../../topology/driver.ts';
import { authorize } from '../auth.ts';
import { baseUrlOf, type ApiDeps } from '../deps.ts';
import { link, paths, rel, type HalLink } from '../hal.ts';
import { loadEnvironment } from '../load.ts';
import { ApiError, badRequest, notFound } from '../problem.ts';
import { idParams } from '../schemas.ts';
import { parseRange } from './logs.ts';
import { redirectTo } from './step-common.ts';

/** Cloud Manager keeps a week of environment logs. */
export const MAX_DAYS = 7;
/** A tail link stays valid past the next UTC midnight, when the client asks for the next day's. */
const TAIL_URL_LIFETIME_MS = 26 * 60 * 60 * 1000;

const ENV_PATH = '/api/program/:programId/environment/:environmentId';
const WORD = '^[a-z][a-zA-Z0-9]{0,31}$';
const DATE = '^\\d{4}-\\d{2}-\\d{2}$';
const KEY = /^(\d{4}-\d{2}-\d{2})_([A-Za-z0-9.-]{1,64})$/;
const words = { type: 'array', minItems: 1, maxItems: 8, items: { type: 'string', pattern: WORD } } as const;

type EnvParams = { programId: string; environmentId: string };
type SignedParams = { environmentId: string; key: string };
type SignedQuery = { expires?: string; signature?: string };

const fileKey = (d: NodeLogDay): string => `${d.date}_${d.stream}`;

function logsOf(deps: ApiDeps): EnvironmentLogs {
  const logs = deps.slipway.driver.logs;
  if (!logs) throw notFound('environment logs (this topology driver keeps none)');
  return logs;
}

/** The requested options, each service and name checked against what the driver keeps. */
function requestedOptions(logs: EnvironmentLogs, services: string[], names: string[]): LogOption[] {
  const known = logs.options();
  for (const service of services) {
    if (!known.some((o) => o.service === service)) throw notFound(`log service ${service}`);
  }
  const chosen = known.filter((o) => services.includes(o.service) && names.includes(o.name));
  for (const name of names) {
    if (!chosen.some((o) => o.name === name)) throw notFound(`log ${name} of service ${services.join(', ')}`);
  }
  return chosen;
}

/** Validates a calendar date given as YYYY-MM-DD (the schema checks only its shape). */
function checkDate(date: string): void {
  const d = new Date(`${date}T00:00:00Z`);
  if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== date) {
    throw badRequest(`date ${date} is not a calendar date`, [{ name: 'querystring.date', reason: 'must be a date YYYY-MM-DD' }]);
  }
}

export function environmentLogRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const db = deps.slipway.rt.db.kysely;
  const signedQuery = { type: 'object', properties: { expires: { type: 'string' }, signature: { type: 'string' } } } as const;
  const signedParams = {
    type: 'object', required: ['environmentId', 'key'],
    properties: { environmentId: { type: 'string', pattern: '^[1-9][0-9]{0,14}$' }, key: { type: 'string', pattern: KEY.source } },
  } as const;

  app.get<{ Params: EnvParams; Querystring: { service: string[]; name: string[]; days: number } }>(`${ENV_PATH}/logs`, {
    schema: {
      params: idParams('programId', 'environmentId'),
      querystring: {
        type: 'object', required: ['service', 'name', 'days'],
        properties: { service: words, name: words, days: { type: 'integer', minimum: 1, maximum: MAX_DAYS } },
      },
      summary: 'The environment\'s logs of the last `days` UTC days: one download per log and day, a tail link on today\'s',
    },
  }, async (req) => {
    await authorize(req, deps, req.params.programId, 'read');
    const env = await loadEnvironment(deps, req.params.programId, req.params.environmentId);
    const logs = logsOf(deps);
    const { service, name, days } = req.query;
    const options = requestedOptions(logs, service, name);
    const self = paths.environment(env.programId, env.id);
    const dates = lastDays(new Date(), days);
    const downloads: Record<string, unknown>[] = [];
    for (const date of dates) {
      for (const option of options) {
        const nodes = await logs.days(env, option, date);
        if (nodes.length === 0) continue;
        const perNode = option.service === 'publish' || option.service === 'dispatcher';
        const download = nodes.map((n) => link(`${self}/logs/download?service=${option.service}&name=${option.name}&date=${date}${perNode ? `&index=${n.node}` : ''}`));
        const links: Record<string, HalLink | HalLink[]> = { [rel('logs/download')]: one(download) };
        if (date === dates[0]) {
          const base = baseUrlOf(deps, req);
          links[rel('logs/tail')] = one(nodes.map((n) => link(`${base}${deps.signer.sign('environment-logs', env.id, fileKey(n), TAIL_URL_LIFETIME_MS)}`)));
        }
        downloads.push({ _links: links, service: option.service, name: option.name, date, programId: Number(env.programId), environmentId: Number(env.id) });
      }
    }
    return {
      _links: {
        self: link(`${self}/logs?${new URLSearchParams([...service.map((s) => ['service', s]), ...name.map((n) => ['name', n]), ['days', String(days)]]).toString()}`),
        [rel('program')]: link(paths.program(env.programId)),
        [rel('environment')]: link(self),
      },
      service, name, days,
      _embedded: { downloads },
    };
  });

  app.get<{ Params: EnvParams; Querystring: { service: string; name: string; date: string; index?: number } }>(`${ENV_PATH}/logs/download`, {
    schema: {
      params: idParams('programId', 'environmentId'),
      querystring: {
        type: 'object', required: ['service', 'name', 'date'],
        properties: {
          service: { type: 'string', pattern: WORD }, name: { type: 'string', pattern: WORD },
          date: { type: 'string', pattern: DATE }, index: { type: 'integer', minimum: 1, maximum: 64 },
        },
      },
      summary: 'A signed, expiring URL of one node\'s log of one day, gzip-compressed ({redirect} with Accept: application/json, else 307)',
    },
  }, async (req, reply) => {
    await authorize(req, deps, req.params.programId, 'read');
    const env = await loadEnvironment(deps, req.params.programId, req.params.environmentId);
    const { service, name, date, index } = req.query;
    checkDate(date);
    const logs = logsOf(deps);
    const [option] = requestedOptions(logs, [service], [name]);
    const nodes = option ? await logs.days(env, option, date) : [];
    if (nodes.length === 0) throw notFound(`${service} log ${name} of ${date}`);
    if (index === undefined && nodes.length > 1) {
      throw badRequest(`${service} has one ${name} log per node: say which with index`, [{ name: 'querystring.index', reason: `must be one of ${nodes.map((n) => n.node).join(', ')}` }]);
    }
    const node = index === undefined ? nodes[0] : nodes.find((n) => n.node === index);
    if (!node) throw notFound(`${service} log ${name} of ${date} on node ${String(index)}`);
    return redirectTo(deps, req, reply, deps.signer.sign('environment-logs-gz', env.id, fileKey(node)));
  });

  /** The signed URL's environment and file, or the reason it is refused. */
  async function signedFile(kind: string, params: SignedParams, query: SignedQuery): Promise<{ path: string; size: number }> {
    const refusal = deps.signer.check(kind, params.environmentId, params.key, query.expires, query.signature);
    if (refusal) throw new ApiError(403, 'Forbidden', refusal);
    const [, date = '', stream = ''] = KEY.exec(params.key) ?? [];
    const env: Environment | undefined = await getEnvironment(db, params.environmentId);
    const file = env && env.status !== 'deleting' ? await logsOf(deps).open(env, stream, date) : undefined;
    if (!file) throw notFound(`log ${stream} of ${date}`);
    return file;
  }

  app.route<{ Params: SignedParams; Querystring: SignedQuery }>({
    method: ['GET', 'HEAD'], url: '/environment-logs/:environmentId/:key',
    schema: { params: signedParams, querystring: signedQuery, summary: 'A node log of one day through a signed URL (no auth): HEAD and Range for tailing' },
    handler: async (req, reply) => {
      const { path, size } = await signedFile('environment-logs', req.params, req.query);
      reply.header('accept-ranges', 'bytes').type('text/plain; charset=utf-8').header('cache-control', 'no-store');
      const range = parseRange(req.headers.range, size);
      if (range === 'unsatisfiable') return reply.code(416).header('content-range', `bytes */${size}`).send();
      const { start, end } = range ?? { start: 0, end: size };
      if (range) reply.code(206).header('content-range', `bytes ${start}-${end - 1}/${size}`);
      reply.header('content-length', end - start);
      if (req.method === 'HEAD' || end === start) return reply.send();
      return reply.send(createReadStream(path, { start, end: end - 1 }));
    },
  });

  app.get<{ Params: SignedParams; Querystring: SignedQuery }>('/environment-logs-gz/:environmentId/:key', {
    schema: { params: signedParams, querystring: signedQuery, summary: 'A node log of one day through a signed URL (no auth), gzip-compressed' },
  }, async (req, reply) => {
    const { path, size } = await signedFile('environment-logs-gz', req.params, req.query);
    const [, date = '', stream = ''] = KEY.exec(req.params.key) ?? [];
    // Up to the size seen now: a day file still growing is served as it was at this moment.
    const body = size === 0 ? createGzip().end() : createReadStream(path, { start: 0, end: size - 1 }).pipe(createGzip());
    return reply.type('application/gzip').header('cache-control', 'no-store')
      .header('content-disposition', `attachment; filename="${stream}-${date}.log.gz"`).send(body);
  });
}

/** A single link as an object, several as an array (Cloud Manager's two forms). */
function one(links: HalLink[]): HalLink | HalLink[] {
  return links.length === 1 && links[0] ? links[0] : links;
}
