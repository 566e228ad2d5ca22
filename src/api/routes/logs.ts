// Step logs: the API hands out a signed, expiring URL ({redirect} or 307); the URL itself is
// served without auth and supports Range (206 / 416 / 404 before the log exists), which is
// how Cloud Manager clients tail a running step. `wait=<seconds>` makes a read at or past the
// end (or of a log not written yet) wait, up to that long, for the next bytes: a tailing client
// sees a line as it is written instead of at its next poll.
import type { FastifyInstance } from 'fastify';
import { isStepTerminal } from '../../domain/transitions.ts';
import { getStep } from '../../store/executions.ts';
import type { LogStore } from '../../runner/logs.ts';
import { listExecutionArtifacts } from '../../store/artifacts.ts';
import { authorize } from '../auth.ts';
import type { ApiDeps } from '../deps.ts';
import { loadStep, type StepParams } from '../load.ts';
import { ApiError, badRequest, notFound } from '../problem.ts';
import { artifactIdOf, redirectTo, STEP_PATH, stepParams } from './step-common.ts';

const LOG_FILE = '^[A-Za-z0-9_-]{1,64}$';

export type ByteRange = { start: number; end: number } | 'unsatisfiable' | undefined;

/** Parses one `bytes=a-b`, `bytes=a-` or `bytes=-n` range against `size` (pure). end is exclusive. */
export function parseRange(header: string | undefined, size: number): ByteRange {
  if (!header) return undefined;
  const m = /^bytes=(\d{0,15})-(\d{0,15})$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined; // malformed or multi-range: whole body
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size : Math.min(size, Number(m[2]) + 1);
  if (start >= size || end <= start) return 'unsatisfiable';
  return { start, end };
}

const MAX_WAIT_S = 30;
/** How often a waiting read looks at the file too: the writer may be an engine in another process. */
const RECHECK_MS = 250;

/** The start of a `bytes=a-` range (what a tailing client sends), else undefined. */
function rangeStart(header: string | undefined): number | undefined {
  const m = /^bytes=(\d{1,15})-/.exec(header?.trim() ?? '');
  return m ? Number(m[1]) : undefined;
}

/** Resolves once the log holds more than `from` bytes or has ended, or after `ms`. */
function growth(logs: LogStore, stepId: string, file: string, from: number, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      unsubscribe();
      clearInterval(recheck);
      clearTimeout(timeout);
      resolve();
    };
    const unsubscribe = logs.subscribe(stepId, file, done, done);
    const recheck = setInterval(() => { if ((logs.size(stepId, file) ?? 0) > from) done(); }, RECHECK_MS);
    const timeout = setTimeout(done, ms);
  });
}

export function logRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { slipway } = deps;
  const signedQuery = { type: 'object', properties: { expires: { type: 'string' }, signature: { type: 'string' } } } as const;
  const tailQuery = {
    type: 'object', properties: { ...signedQuery.properties, wait: { type: 'integer', minimum: 0, maximum: MAX_WAIT_S } },
  } as const;

  app.get<{ Params: StepParams; Querystring: { file?: string } }>(`${STEP_PATH}/logs`, {
    schema: {
      params: stepParams, querystring: { type: 'object', properties: { file: { type: 'string', pattern: LOG_FILE } } },
      summary: 'A signed, expiring log URL ({redirect} with Accept: application/json, else 307); ?file= picks another log',
    },
  }, async (req, reply) => {
    await authorize(req, deps, req.params.programId, 'read');
    const { step } = await loadStep(deps, req.params);
    const file = req.query.file ?? 'main';
    if (!slipway.logs.pathOf(step.id, file)) throw badRequest(`bad log file name ${file}`);
    // A step that has ended writes no more: a log it never wrote is missing now, not later.
    // (Adobe's client would otherwise save the signed URL's 404 body as the log and succeed.)
    if (isStepTerminal(step.status) && slipway.logs.size(step.id, file) === undefined) {
      throw notFound(`log ${file} of the ${step.action} step (${step.status})`);
    }
    return redirectTo(deps, req, reply, deps.signer.sign('logs', step.id, file));
  });

  app.get<{ Params: { stepId: string; file: string }; Querystring: { expires?: string; signature?: string; wait?: number } }>('/logs/:stepId/:file', {
    schema: {
      params: { type: 'object', required: ['stepId', 'file'], properties: { stepId: { type: 'string', pattern: '^[1-9][0-9]{0,14}$' }, file: { type: 'string', pattern: LOG_FILE } } },
      querystring: tailQuery,
      summary: `A step log through a signed URL (no auth); supports Range; wait=<seconds> (≤ ${MAX_WAIT_S}) waits at the end for new bytes`,
    },
  }, async (req, reply) => {
    const { stepId, file } = req.params;
    const refusal = deps.signer.check('logs', stepId, file, req.query.expires, req.query.signature);
    if (refusal) throw new ApiError(403, 'Forbidden', refusal);
    if (req.query.wait) {
      const from = rangeStart(req.headers.range) ?? 0;
      if ((slipway.logs.size(stepId, file) ?? 0) <= from) await growth(slipway.logs, stepId, file, from, req.query.wait * 1000);
    }
    const size = slipway.logs.size(stepId, file);
    if (size === undefined) throw notFound(`log ${file} of step ${stepId} (not written yet)`);
    reply.header('accept-ranges', 'bytes').type('text/plain; charset=utf-8').header('cache-control', 'no-store');
    const range = parseRange(req.headers.range, size);
    if (range === 'unsatisfiable') {
      return reply.code(416).header('content-range', `bytes */${size}`).send();
    }
    const { start, end } = range ?? { start: 0, end: size };
    // Streamed from the file: a slow client of a big log holds a 64 KiB buffer, not the range.
    // The size was taken above; a running step may append meanwhile, so the stream stops at `end`.
    const body = slipway.logs.stream(stepId, file, start, end);
    if (!body) throw notFound(`log ${file} of step ${stepId}`);
    if (range) reply.code(206).header('content-range', `bytes ${start}-${end - 1}/${size}`);
    return reply.header('content-length', end - start).send(body);
  });

  app.get<{ Params: { stepId: string; artifactId: string }; Querystring: { expires?: string; signature?: string } }>('/artifacts/:stepId/:artifactId', {
    schema: {
      params: { type: 'object', required: ['stepId', 'artifactId'], properties: { stepId: { type: 'string', pattern: '^[1-9][0-9]{0,14}$' }, artifactId: { type: 'string', pattern: '^[0-9a-f]{16}$' } } },
      querystring: signedQuery,
      summary: 'An artifact through a signed URL (no auth)',
    },
  }, async (req, reply) => {
    const { stepId, artifactId } = req.params;
    const refusal = deps.signer.check('artifacts', stepId, artifactId, req.query.expires, req.query.signature);
    if (refusal) throw new ApiError(403, 'Forbidden', refusal);
    const step = await getStep(slipway.rt.db.kysely, stepId);
    const artifact = step && (await listExecutionArtifacts(slipway.rt.db.kysely, step.executionId, step.id)).find((a) => artifactIdOf(a) === artifactId);
    if (!artifact || !await slipway.artifacts.has(artifact.digest)) throw notFound(`artifact ${artifactId}`);
    return reply.type('application/octet-stream').header('content-length', artifact.size)
      .header('content-disposition', `attachment; filename="${artifact.name.replace(/[^\w.-]/g, '_')}"`)
      .send(slipway.artifacts.open(artifact.digest));
  });
}
