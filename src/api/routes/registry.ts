// Slipway's embedded registry: the pull side of the OCI Distribution API over the artifact
// store, so that podman, skopeo, containerd and Kubernetes pull Slipway's images by digest.
// Repositories are `<program id or name>/<image name>` (`7/app`); a repository serves only the
// images recorded as artifacts of that program's executions, and a blob only when it belongs to
// one of them (no reading of arbitrary store blobs, nor across programs). Tags: `latest` (the
// newest build) and an execution's artifactsVersion. Blobs stream from the store's files.
//
// Errors here are NOT problem+json: registry clients parse the Distribution API's own format,
// `{"errors":[{"code":"MANIFEST_UNKNOWN","message":…}]}`, and act on its codes; this scope has
// its own error handler for that. Who may pull: registry-access.ts.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { dnsName } from '../../artifacts/manifests.ts';
import { imageBlobs, MEDIA_TYPES } from '../../artifacts/oci-format.ts';
import { isDigest, isTag, parseRepository, PULLABLE_TYPES, registryHost, repositoryName } from '../../artifacts/registry.ts';
import type { Program } from '../../domain/model.ts';
import { programImageDigests, programImages } from '../../store/artifacts.ts';
import { getProgram, listPrograms } from '../../store/programs.ts';
import { authorize } from '../auth.ts';
import { baseUrlOf, type ApiDeps } from '../deps.ts';
import { ApiError, notFound, toApiError } from '../problem.ts';
import { idParams } from '../schemas.ts';
import { parseRange } from './logs.ts';
import { DAY_MS, issuePullToken, PULL_USER, registryPrincipal, type RegistryPrincipal } from '../registry-access.ts';

export const API_VERSION_HEADER = 'docker-distribution-api-version';
const API_VERSION = 'registry/2.0';
const CHALLENGE = 'Basic realm="Slipway registry"';
const PULL_TOKEN_DAYS = { default: 30, max: 365 };

export class RegistryError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = 'RegistryError';
  }
}

const CODE_OF_STATUS: Record<number, string> = { 401: 'UNAUTHORIZED', 403: 'DENIED', 404: 'NAME_UNKNOWN', 405: 'UNSUPPORTED' };

function sendRegistryError(reply: FastifyReply, e: RegistryError): FastifyReply {
  if (e.status === 401) reply.header('www-authenticate', CHALLENGE);
  return reply.code(e.status).header(API_VERSION_HEADER, API_VERSION).type('application/json')
    .send({ errors: [{ code: e.code, message: e.message }] });
}

function asRegistryError(error: unknown): RegistryError | undefined {
  if (error instanceof RegistryError) return error;
  const api = toApiError(error);
  return api && (error instanceof ApiError || api.status < 500)
    ? new RegistryError(api.status, CODE_OF_STATUS[api.status] ?? 'UNSUPPORTED', api.message) : undefined;
}

/** Manifest digest → the digests of its blobs (immutable, so kept; bounded). */
class BlobSets {
  private readonly sets = new Map<string, Set<string>>();
  async of(deps: ApiDeps, manifest: string): Promise<Set<string>> {
    let set = this.sets.get(manifest);
    if (!set) {
      set = new Set(await imageBlobs(deps.slipway.artifacts, manifest));
      if (this.sets.size >= 5000) this.sets.clear();
      this.sets.set(manifest, set);
    }
    return set;
  }
}

/** A repository's program: by id, or by its DNS-safe name when exactly one program has it. */
async function programOf(deps: ApiDeps, name: string): Promise<Program | undefined> {
  const db = deps.slipway.rt.db.kysely;
  if (/^[1-9][0-9]{0,14}$/.test(name)) return getProgram(db, name);
  const matching = (await listPrograms(db)).filter((p) => dnsName(p.name) === name);
  return matching.length === 1 ? matching[0] : undefined;
}

async function mayRead(deps: ApiDeps, req: FastifyRequest, principal: RegistryPrincipal, program: Program): Promise<void> {
  if (principal.kind === 'pull') {
    if (principal.programId !== program.id) throw new RegistryError(403, 'DENIED', `this pull token is not for program ${program.id}`);
    return;
  }
  req.slipwayUser = principal.user;
  await authorize(req, deps, program.id, 'read');
}

export function registryRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const db = deps.slipway.rt.db.kysely;
  const store = deps.slipway.artifacts;
  const blobSets = new BlobSets();
  const principals = new WeakMap<FastifyRequest, RegistryPrincipal>();

  const principalOf = (req: FastifyRequest): RegistryPrincipal => {
    const principal = principals.get(req);
    if (!principal) throw new RegistryError(401, 'UNAUTHORIZED', 'authentication required');
    return principal;
  };

  void app.register(async (scope) => {
    scope.setErrorHandler((error, req, reply) => {
      const known = asRegistryError(error);
      if (known) return sendRegistryError(reply, known);
      req.log.error({ err: error }, 'unhandled registry error');
      return sendRegistryError(reply, new RegistryError(500, 'UNKNOWN', 'an unexpected error occurred'));
    });

    scope.addHook('onRequest', async (req) => {
      const principal = await registryPrincipal(deps, req);
      if (principal === 'invalid') throw new RegistryError(401, 'UNAUTHORIZED', 'the credentials are not valid');
      if (principal !== 'none') principals.set(req, principal);
    });

    scope.get('/v2/', { schema: { summary: 'Registry API version check (OCI Distribution)' } }, async (req, reply) => {
      principalOf(req);
      return reply.header(API_VERSION_HEADER, API_VERSION).send({});
    });

    scope.route({
      method: ['GET', 'HEAD'],
      url: '/v2/*',
      handler: async (req, reply) => {
        const principal = principalOf(req);
        const path = (req.params as { '*': string })['*'];
        const m = /^(.+)\/(manifests|blobs|tags)\/([^/]+)$/.exec(path);
        const repository = m?.[1] ? parseRepository(m[1]) : undefined;
        if (!m || !repository) throw new RegistryError(404, 'NAME_UNKNOWN', `no repository at /v2/${path}`);
        const program = await programOf(deps, repository.program);
        if (!program) throw new RegistryError(404, 'NAME_UNKNOWN', `repository ${m[1]} not known`);
        await mayRead(deps, req, principal, program);
        const reference = m[3] ?? '';
        reply.header(API_VERSION_HEADER, API_VERSION);
        if (m[2] === 'manifests') return sendManifest(req, reply, program.id, repository.image, reference);
        if (m[2] === 'blobs') return sendBlob(req, reply, program.id, repository.image, reference);
        if (reference !== 'list') throw new RegistryError(404, 'NAME_UNKNOWN', `no route /v2/${path}`);
        return { name: m[1], tags: await tagsOf(program.id, repository.image) };
      },
    });

    // The push side is not offered: the buildImage step writes the images.
    scope.route({
      method: ['POST', 'PUT', 'PATCH', 'DELETE'],
      url: '/v2/*',
      handler: async () => { throw new RegistryError(405, 'UNSUPPORTED', 'this registry is read-only: images are built by Slipway'); },
    });
  });

  async function sendManifest(req: FastifyRequest, reply: FastifyReply, programId: string, image: string, reference: string) {
    const only = isDigest(reference) ? { digest: reference, limit: 1 }
      : reference === 'latest' ? { limit: 1 }
        : isTag(reference) ? { artifactsVersion: reference, limit: 1 } : undefined;
    if (!only) throw new RegistryError(400, 'TAG_INVALID', `not a digest or tag: ${reference}`);
    const found = (await programImages(db, programId, image, PULLABLE_TYPES, only))[0];
    if (!found || !await store.has(found.digest)) {
      throw new RegistryError(404, 'MANIFEST_UNKNOWN', `manifest ${reference} not known in ${repositoryName(programId, image)}`);
    }
    const bytes = await store.read(found.digest);
    const mediaType = (JSON.parse(bytes.toString('utf8')) as { mediaType?: string }).mediaType ?? MEDIA_TYPES.manifest;
    reply.type(mediaType).header('content-length', bytes.length).header('docker-content-digest', found.digest)
      .header('etag', `"${found.digest}"`);
    return req.method === 'HEAD' ? reply.send() : reply.send(bytes);
  }

  /** `latest` when the repository has an image, and the artifactsVersion of every build of it. */
  async function tagsOf(programId: string, image: string): Promise<string[]> {
    const images = await programImages(db, programId, image, PULLABLE_TYPES);
    const versions = images.map((i) => i.artifactsVersion).filter((v): v is string => v !== undefined && isTag(v));
    return images.length === 0 ? [] : [...new Set(['latest', ...versions])].sort();
  }

  async function sendBlob(req: FastifyRequest, reply: FastifyReply, programId: string, image: string, digest: string) {
    if (!isDigest(digest)) throw new RegistryError(400, 'DIGEST_INVALID', `not a sha256 digest: ${digest}`);
    let member = false;
    for (const manifest of await programImageDigests(db, programId, image, PULLABLE_TYPES)) {
      if (await store.has(manifest) && (await blobSets.of(deps, manifest)).has(digest)) { member = true; break; }
    }
    const size = member ? await stat(store.pathOf(digest)).then((s) => s.size, () => undefined) : undefined;
    if (size === undefined) throw new RegistryError(404, 'BLOB_UNKNOWN', `blob ${digest} not known in ${repositoryName(programId, image)}`);
    reply.type('application/octet-stream').header('docker-content-digest', digest).header('accept-ranges', 'bytes')
      .header('etag', `"${digest}"`).header('cache-control', 'max-age=31536000');
    // A client resuming an interrupted layer asks for the rest of it (Range).
    const range = req.method === 'GET' ? parseRange(req.headers.range, size) : undefined;
    if (range === 'unsatisfiable') return reply.code(416).header('content-range', `bytes */${size}`).send();
    const { start, end } = range ?? { start: 0, end: size };
    if (range) reply.code(206).header('content-range', `bytes ${start}-${end - 1}/${size}`);
    reply.header('content-length', end - start);
    // Streamed from the blob's file: a layer is never held in memory.
    if (req.method === 'HEAD') return reply.send();
    return reply.send(range ? createReadStream(store.pathOf(digest), { start, end: end - 1 }) : store.open(digest));
  }

  app.post<{ Params: { programId: string }; Body: { days?: number } | undefined }>('/api/program/:programId/registry/token', {
    schema: {
      params: idParams('programId'),
      body: { type: 'object', additionalProperties: false, properties: { days: { type: 'integer', minimum: 1, maximum: PULL_TOKEN_DAYS.max } } },
      summary: 'A read-only pull token for the program\'s images in Slipway\'s registry (shown once; rotate-signing-key revokes all)',
    },
  }, async (req, reply) => {
    await authorize(req, deps, req.params.programId, 'operate');
    const program = await getProgram(db, req.params.programId);
    if (!program) throw notFound(`program ${req.params.programId}`);
    const days = req.body?.days ?? PULL_TOKEN_DAYS.default;
    const { token, expiresAt } = issuePullToken(deps.signer, program.id, days * DAY_MS);
    const host = registryHost(baseUrlOf(deps, req));
    return reply.code(201).send({
      registry: host, username: PULL_USER, password: token, expiresAt: expiresAt.toISOString(),
      repositories: ['app', 'dispatcher'].map((image) => `${host}/${repositoryName(program.id, image)}`),
    });
  });
}

