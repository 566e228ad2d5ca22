// What the step, log and artifact routes share: the step URL, artifact ids and redirects.
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ArtifactRecord } from '../../store/artifacts.ts';
import { baseUrlOf, type ApiDeps } from '../deps.ts';
import { idParams } from '../schemas.ts';

export const STEP_PATH = '/api/program/:programId/pipeline/:pipelineId/execution/:executionId/phase/:phaseId/step/:stepId';
export const stepParams = idParams('programId', 'pipelineId', 'executionId', 'phaseId', 'stepId');

/** A stable id for an artifact of a step (digest and file name together). */
export const artifactIdOf = (a: ArtifactRecord): string =>
  createHash('sha256').update(`${a.digest}\u0000${a.name}`).digest('hex').slice(0, 16);

/** `{redirect}` for JSON clients, else a 307 (Cloud Manager's two forms). */
export function redirectTo(deps: ApiDeps, req: FastifyRequest, reply: FastifyReply, path: string): FastifyReply {
  const url = `${baseUrlOf(deps, req)}${path}`;
  if ((req.headers.accept ?? '').includes('application/json')) return reply.send({ redirect: url });
  return reply.code(307).header('location', url).send();
}
