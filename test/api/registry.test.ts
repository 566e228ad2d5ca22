// The embedded registry (OCI Distribution API, pull side) on a real listening server: plain HTTP
// for the protocol's details (HEAD, 404 and 401 in the registry's error format, who may read
// what), then the real clients, skopeo and podman, pulling an image by digest.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createSlipway, type Slipway } from '../../src/app.ts';
import { ARTIFACT_TYPES } from '../../src/artifacts/artifact-types.ts';
import { buildImage, imageBlobs, MEDIA_TYPES, readManifest } from '../../src/artifacts/oci.ts';
import { buildServer } from '../../src/api/server.ts';
import { phaseIdOf } from '../../src/api/view-execution.ts';
import { kubernetesManifests } from '../../src/artifacts/manifests.ts';
import { imageReference } from '../../src/artifacts/registry.ts';
import { recordArtifact } from '../../src/store/artifacts.ts';
import { insertExecution, updateExecution } from '../../src/store/executions.ts';
import { createPipeline, listPipelines } from '../../src/store/pipelines.ts';
import { createProgram, createRepository, getProgram } from '../../src/store/programs.ts';
import { RecordingDriver } from '../support/recording-driver.ts';
import { makeStepContext } from '../support/step-context.ts';
import { eventually } from '../support/slipway.ts';
import { freePort } from '../../src/runner/free-port.ts';
import { writeContainersConf } from '../../src/runner/podman.ts';

const run = promisify(execFile);
const ADMIN = 'slw_registry_test_admin_token_0123';
const VERSION = '2026.335.040506.0000000001';

let dir: string;
let slipway: Slipway;
let app: FastifyInstance;
let base: string;
let host: string;
const programs: { id: string; image: string; stepPath: string }[] = [];

async function imageOf(label: string): Promise<string> {
  const tree = join(dir, `tree-${label}`);
  mkdirSync(join(tree, 'srv'), { recursive: true });
  writeFileSync(join(tree, 'srv', 'hello.txt'), `hello from ${label}\n`);
  return (await buildImage(slipway.artifacts, { dir: tree, config: { cmd: ['/srv/hello'], labels: { 'io.slipway.test': label } } })).digest;
}

/** Records `digest` as the app image of a new execution of the program. */
async function recordOnProgram(programId: string, digest: string): Promise<void> {
  const db = slipway.rt.db.kysely;
  const [pipeline] = await listPipelines(db, programId);
  if (!pipeline) throw new Error('no pipeline');
  const execution = await insertExecution(db, {
    programId, pipelineId: pipeline.id, pipelineType: 'codeQuality', trigger: 'MANUAL', mode: 'NORMAL', user: 'admin',
    steps: [{ phase: 'build', action: 'build' }], environmentIds: {},
  }, Date.now());
  await updateExecution(db, execution.id, { status: 'FINISHED', busy_pipeline_id: null });
  const size = (await slipway.artifacts.read(digest)).length;
  await recordArtifact(db, { executionId: execution.id, stepId: execution.steps[0]?.id ?? '', digest, size, type: ARTIFACT_TYPES.APP_IMAGE, name: 'app' });
}

/** A program with one execution whose step recorded `digest` as its app image, and manifests naming it. */
async function programWithImage(name: string, digest: string): Promise<{ id: string; stepPath: string }> {
  const db = slipway.rt.db.kysely;
  const program = await createProgram(db, { name });
  const repo = await createRepository(db, program.id, { name: 'site', url: 'file:///nonexistent.git' });
  const pipeline = await createPipeline(db, {
    programId: program.id, name: 'p', type: 'codeQuality', trigger: 'MANUAL', repositoryId: repo.id, branch: 'main', environments: {},
  });
  const execution = await insertExecution(db, {
    programId: program.id, pipelineId: pipeline.id, pipelineType: 'codeQuality', trigger: 'MANUAL', mode: 'NORMAL', user: 'admin',
    steps: [{ phase: 'build', action: 'build' }], environmentIds: {},
  }, Date.now());
  await updateExecution(db, execution.id, { artifacts_version: VERSION, status: 'FINISHED', busy_pipeline_id: null });
  const stepId = execution.steps[0]?.id ?? '';
  const size = (await slipway.artifacts.read(digest)).length;
  await recordArtifact(db, { executionId: execution.id, stepId, digest, size, type: ARTIFACT_TYPES.APP_IMAGE, name: 'app' });
  const yaml = kubernetesManifests({
    program, environment: { id: '1', name: 'prod', type: 'prod', publishCount: 2 }, version: VERSION,
    appImage: imageReference(host, program.id, 'app', digest),
  });
  const manifests = await slipway.artifacts.putBytes(yaml);
  await recordArtifact(db, { executionId: execution.id, stepId, ...manifests, type: ARTIFACT_TYPES.K8S_MANIFESTS, name: 'kubernetes-prod.yaml' });
  const step = execution.steps[0];
  if (!step) throw new Error('no step');
  const stepPath = `/api/program/${program.id}/pipeline/${pipeline.id}/execution/${execution.id}/phase/${phaseIdOf(execution, step)}/step/${stepId}`;
  return { id: program.id, stepPath };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'slipway-registry-'));
  // The shipped handlers: their buildImage names images after this server once it listens.
  slipway = await createSlipway({ dataDir: join(dir, 'data') }, { runEngine: false, driver: new RecordingDriver() });
  app = await buildServer(slipway, { adminToken: ADMIN });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
  host = new URL(base).host;
  for (const name of ['Harbour Outfitters', 'Other Shop']) {
    const image = await imageOf(name);
    programs.push({ ...await programWithImage(name, image), image });
  }
});

afterAll(async () => {
  await app?.close();
  await slipway?.close();
  rmSync(dir, { recursive: true, force: true });
});

const bearer = (token = ADMIN) => ({ authorization: `Bearer ${token}` });
const basic = (token: string, user = 'someone') => ({ authorization: `Basic ${Buffer.from(`${user}:${token}`).toString('base64')}` });

async function get(path: string, headers: Record<string, string> = bearer(), method = 'GET') {
  const res = await fetch(`${base}${path}`, { method, headers });
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, body, json: () => JSON.parse(body.toString('utf8')) as Record<string, unknown> };
}

async function member(programId: string, user: string, role: string): Promise<string> {
  const res = await fetch(`${base}/api/program/${programId}/members`, {
    method: 'POST', headers: { ...bearer(), 'content-type': 'application/json' }, body: JSON.stringify({ user, role }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { token: string }).token;
}

const errorCode = (res: { json: () => Record<string, unknown> }): unknown => (res.json().errors as { code: string }[])[0]?.code;

describe('registry over plain HTTP', () => {
  it('answers /v2/ with the API version to a token, and a Basic challenge without one', async () => {
    const ok = await get('/v2/');
    expect(ok.status).toBe(200);
    expect(ok.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
    const anonymous = await get('/v2/', {});
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    expect(anonymous.headers.get('content-type')).toMatch(/^application\/json/);
    expect(errorCode(anonymous)).toBe('UNAUTHORIZED');
    const wrong = await get('/v2/', basic('slw_not_a_token'));
    expect(wrong.status).toBe(401);
    expect(errorCode(wrong)).toBe('UNAUTHORIZED');
    expect((await get('/v2/', basic(ADMIN))).status).toBe(200);
  });

  it('serves a manifest by digest, by tag and by HEAD, with its type, length and digest', async () => {
    const [a] = programs;
    if (!a) throw new Error('no program');
    const got = await get(`/v2/${a.id}/app/manifests/${a.image}`);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe(MEDIA_TYPES.manifest);
    expect(got.headers.get('docker-content-digest')).toBe(a.image);
    expect(Number(got.headers.get('content-length'))).toBe(got.body.length);
    expect(`sha256:${createHash('sha256').update(got.body).digest('hex')}`).toBe(a.image);

    const head = await get(`/v2/${a.id}/app/manifests/${a.image}`, bearer(), 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(head.headers.get('content-length')).toBe(String(got.body.length));
    expect(head.headers.get('docker-content-digest')).toBe(a.image);

    for (const tag of ['latest', VERSION]) {
      expect((await get(`/v2/${a.id}/app/manifests/${tag}`)).headers.get('docker-content-digest')).toBe(a.image);
    }
    expect((await get(`/v2/${a.id}/app/tags/list`)).json()).toEqual({ name: `${a.id}/app`, tags: [VERSION, 'latest'] });
    // The program's DNS-safe name names the same repository.
    expect((await get(`/v2/harbour-outfitters/app/manifests/${a.image}`)).status).toBe(200);
  });

  it('streams every blob of the image with its length and digest', async () => {
    const [a] = programs;
    if (!a) throw new Error('no program');
    const manifest = await readManifest(slipway.artifacts, a.image);
    for (const blob of [manifest.config, ...manifest.layers]) {
      const res = await get(`/v2/${a.id}/app/blobs/${blob.digest}`);
      expect(res.status).toBe(200);
      expect(res.body.length).toBe(blob.size);
      expect(`sha256:${createHash('sha256').update(res.body).digest('hex')}`).toBe(blob.digest);
      expect(res.headers.get('docker-content-digest')).toBe(blob.digest);
      const head = await get(`/v2/${a.id}/app/blobs/${blob.digest}`, bearer(), 'HEAD');
      expect([head.status, head.headers.get('content-length'), head.body.length]).toEqual([200, String(blob.size), 0]);
      // The rest of a blob, from an offset (how a client resumes an interrupted layer).
      const rest = await get(`/v2/${a.id}/app/blobs/${blob.digest}`, { ...bearer(), range: 'bytes=10-' });
      expect([rest.status, rest.headers.get('content-range')]).toEqual([206, `bytes 10-${blob.size - 1}/${blob.size}`]);
      expect(rest.body.equals(res.body.subarray(10))).toBe(true);
      expect((await get(`/v2/${a.id}/app/blobs/${blob.digest}`, { ...bearer(), range: `bytes=${blob.size}-` })).status).toBe(416);
    }
  });

  it('answers unknown names, manifests and blobs with 404 in the registry error format', async () => {
    const [a, b] = programs;
    if (!a || !b) throw new Error('no programs');
    const unknownDigest = `sha256:${'0'.repeat(64)}`;
    const cases: [string, string][] = [
      [`/v2/${a.id}/app/manifests/${unknownDigest}`, 'MANIFEST_UNKNOWN'],
      [`/v2/${a.id}/app/manifests/no-such-tag`, 'MANIFEST_UNKNOWN'],
      [`/v2/${a.id}/dispatcher/manifests/latest`, 'MANIFEST_UNKNOWN'],
      [`/v2/${a.id}/app/blobs/${unknownDigest}`, 'BLOB_UNKNOWN'],
      // Another program's image and its layer are not part of this program's repository.
      [`/v2/${a.id}/app/manifests/${b.image}`, 'MANIFEST_UNKNOWN'],
      [`/v2/${a.id}/app/blobs/${(await imageBlobs(slipway.artifacts, b.image))[2]}`, 'BLOB_UNKNOWN'],
      ['/v2/999/app/manifests/latest', 'NAME_UNKNOWN'],
      ['/v2/just-one-part/manifests/latest', 'NAME_UNKNOWN'],
    ];
    for (const [path, code] of cases) {
      const res = await get(path);
      expect([path, res.status, errorCode(res)]).toEqual([path, 404, code]);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    }
    const head = await get(`/v2/${a.id}/app/manifests/${unknownDigest}`, bearer(), 'HEAD');
    expect(head.status).toBe(404);
    const badTag = await get(`/v2/${a.id}/app/manifests/-not-a-tag`);
    expect([badTag.status, errorCode(badTag)]).toEqual([400, 'TAG_INVALID']);
    const push = await fetch(`${base}/v2/${a.id}/app/blobs/uploads/`, { method: 'POST', headers: bearer() });
    expect(push.status).toBe(405);
    expect(((await push.json()) as { errors: { code: string }[] }).errors[0]?.code).toBe('UNSUPPORTED');
  });

  it('lets a reader of the program pull, and nobody else', async () => {
    const [a, b] = programs;
    if (!a || !b) throw new Error('no programs');
    const developer = await member(a.id, 'dev-registry', 'DEVELOPER');
    expect((await get(`/v2/${a.id}/app/manifests/${a.image}`, basic(developer))).status).toBe(200);
    expect((await get(`/v2/${a.id}/app/manifests/${a.image}`, bearer(developer))).status).toBe(200);
    const denied = await get(`/v2/${b.id}/app/manifests/${b.image}`, basic(developer));
    expect([denied.status, errorCode(denied)]).toEqual([403, 'DENIED']);
    const anonymous = await get(`/v2/${a.id}/app/blobs/${a.image}`, {});
    expect([anonymous.status, errorCode(anonymous)]).toEqual([401, 'UNAUTHORIZED']);
  });

  it('issues read-only pull tokens for one program', async () => {
    const [a, b] = programs;
    if (!a || !b) throw new Error('no programs');
    const res = await fetch(`${base}/api/program/${a.id}/registry/token`, {
      method: 'POST', headers: { ...bearer(), 'content-type': 'application/json' }, body: JSON.stringify({ days: 2 }),
    });
    expect(res.status).toBe(201);
    const grant = (await res.json()) as { registry: string; username: string; password: string; expiresAt: string };
    expect(grant.registry).toBe(host);
    expect(Date.parse(grant.expiresAt) - Date.now()).toBeGreaterThan(47 * 3600_000);
    expect((await get(`/v2/${a.id}/app/manifests/${a.image}`, basic(grant.password, grant.username))).status).toBe(200);
    expect((await get(`/v2/${b.id}/app/manifests/${b.image}`, basic(grant.password))).status).toBe(403);
    // Read-only: the token is nobody's API token.
    expect((await get(`/api/program/${a.id}`, bearer(grant.password))).status).toBe(401);
    // A forged or altered token is refused.
    const forged = grant.password.replace(/\.(\d+)\./, (_m, p: string) => `.${Number(p) + 1}.`);
    expect((await get('/v2/', basic(forged))).status).toBe(401);
    // A developer cannot mint one (it would outlive their role).
    const developer = await member(a.id, 'dev-token', 'DEVELOPER');
    const refused = await fetch(`${base}/api/program/${a.id}/registry/token`, {
      method: 'POST', headers: { ...bearer(developer), 'content-type': 'application/json' }, body: '{}',
    });
    expect(refused.status).toBe(403);
  });
});

describe('Kubernetes manifests as a step artifact', () => {
  it('are listed and downloadable through the signed artifact link, naming the image in this registry', async () => {
    const [a] = programs;
    if (!a) throw new Error('no program');
    const list = (await get(`${a.stepPath}/artifacts`)).json() as { _embedded: { artifacts: { type: string; file: string; _links: { self: { href: string } } }[] } };
    const item = list._embedded.artifacts.find((x) => x.type === 'K8S_MANIFESTS');
    expect(item?.file).toBe('kubernetes-prod.yaml');
    const link = (await get(new URL(item?._links.self.href ?? '', base).pathname, { ...bearer(), accept: 'application/json' })).json() as { redirect: string };
    const download = await fetch(link.redirect);
    expect(download.status).toBe(200);
    const yaml = await download.text();
    expect(yaml).toContain(`image: ${host}/${a.id}/app@${a.image}`);
    expect(yaml).toContain('kind: Deployment');
  });
});

describe('registry with real clients', () => {
  it('skopeo inspects the image by digest', async () => {
    const [a] = programs;
    if (!a) throw new Error('no program');
    const { stdout } = await run('skopeo', ['inspect', '--tls-verify=false', '--creds', `admin:${ADMIN}`, `docker://${host}/${a.id}/app@${a.image}`]);
    const info = JSON.parse(stdout) as { Digest: string; Labels: Record<string, string>; Layers: string[] };
    expect(info.Digest).toBe(a.image);
    expect(info.Labels['io.slipway.test']).toBe('Harbour Outfitters');
    expect(info.Layers).toEqual((await readManifest(slipway.artifacts, a.image)).layers.map((l) => l.digest));
  });

  it('pulls the reference that the shipped buildImage step lists for its image', async () => {
    const [a] = programs;
    if (!a) throw new Error('no program');
    const tree = join(dir, 'build-output');
    mkdirSync(tree, { recursive: true });
    writeFileSync(join(tree, 'server.js'), [
      "require('node:http').createServer((req, res) => res.end(req.url === '/health' ? 'ok from the image' : 'hi'))",
      '  .listen(Number(process.env.PORT), process.env.HOST);',
    ].join('\n'));
    const output = await buildImage(slipway.artifacts, { dir: tree });
    const contract = await slipway.artifacts.putBytes(Buffer.from(JSON.stringify({ app: { start: 'node server.js', health: '/health' } })));
    const program = await getProgram(slipway.rt.db.kysely, a.id);
    if (!program) throw new Error('no program');
    const ctx = makeStepContext({
      artifacts: slipway.artifacts, program,
      priorArtifacts: [
        { ...output, type: ARTIFACT_TYPES.BUILD_OUTPUT, name: 'output', stepId: 's0' },
        { ...contract, type: ARTIFACT_TYPES.CONTRACT, name: 'slipway.yaml', stepId: 's0' },
      ],
    });
    try {
      const result = await slipway.handlers.buildImage?.run(ctx);
      expect(result?.outcome, ctx.log.text()).toBe('finished');
      const [app] = ctx.details.images as { name: string; digest: string; reference: string }[];
      expect(app?.reference).toBe(`${host}/${a.id}/app@${app?.digest}`);
      // Not pullable until recorded for the program (the engine records it; here, by hand).
      await expect(run('skopeo', ['inspect', '--tls-verify=false', '--creds', `admin:${ADMIN}`, `docker://${app?.reference}`])).rejects.toThrow(/manifest unknown/i);
      await recordOnProgram(a.id, app?.digest ?? '');
      const { stdout } = await run('skopeo', ['inspect', '--tls-verify=false', '--creds', `admin:${ADMIN}`, `docker://${app?.reference}`]);
      expect((JSON.parse(stdout) as { Digest: string }).Digest).toBe(app?.digest);
      await expect(runPulled(app?.reference ?? '')).resolves.toBe('ok from the image');
    } finally {
      ctx.cleanup();
    }
  });

  /** `podman pull` then `podman run -e PORT=8080 -p 127.0.0.1:P:8080`, as anyone would: its health answer. */
  async function runPulled(reference: string): Promise<string> {
    const storage = join(dir, 'podman-run');
    const conf = await writeContainersConf(storage);
    const podman = (...args: string[]) => run('podman', ['--root', join(storage, 'root'), '--runroot', join(storage, 'run'), ...args],
      { env: { ...process.env, CONTAINERS_CONF: conf } });
    const port = await freePort();
    try {
      await podman('pull', '--quiet', '--tls-verify=false', '--creds', `admin:${ADMIN}`, reference);
      await podman('run', '-d', '--name', 'slipway-registry-test', '-e', 'PORT=8080', '-p', `127.0.0.1:${port}:8080`, reference);
      return await eventually(async () => {
        const res = await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined);
        return res?.ok ? res.text() : undefined;
      });
    } finally {
      await podman('rm', '--force', '--time', '0', 'slipway-registry-test').catch(() => undefined);
      await podman('rmi', '--all', '--force').catch(() => undefined);
      rmSync(storage, { recursive: true, force: true });
    }
  }

  it('podman logs in with a pull token and pulls the image by digest (into its own storage)', async () => {
    const [a] = programs;
    if (!a) throw new Error('no program');
    const storage = join(dir, 'podman');
    const podman = (...args: string[]) => run('podman', ['--root', join(storage, 'root'), '--runroot', join(storage, 'run'), '--storage-driver', 'vfs', ...args],
      { env: { ...process.env, REGISTRY_AUTH_FILE: join(storage, 'auth.json') } });
    const reference = `${host}/${a.id}/app@${a.image}`;
    mkdirSync(storage, { recursive: true });
    writeFileSync(join(storage, 'auth.json'), '{"auths":{}}');
    const grant = await fetch(`${base}/api/program/${a.id}/registry/token`, {
      method: 'POST', headers: { ...bearer(), 'content-type': 'application/json' }, body: '{}',
    }).then((r) => r.json() as Promise<{ username: string; password: string }>);
    try {
      // `podman login` with a read-only pull token, then a pull by digest that uses the stored login.
      await podman('login', '--tls-verify=false', '--username', grant.username, '--password', grant.password, host);
      await podman('pull', '--quiet', '--tls-verify=false', reference);
      const { stdout } = await podman('image', 'inspect', reference);
      const [image] = JSON.parse(stdout) as { Digest: string; Labels: Record<string, string> }[];
      expect(image?.Digest).toBe(a.image);
      expect(image?.Labels['io.slipway.test']).toBe('Harbour Outfitters');
      // Without credentials the registry refuses, and podman says so.
      await podman('logout', host);
      await expect(podman('pull', '--quiet', '--tls-verify=false', `${host}/${a.id}/app:latest`)).rejects.toThrow(/unauthorized|authentication required/i);
    } finally {
      await podman('rmi', '--all', '--force').catch(() => undefined);
      rmSync(storage, { recursive: true, force: true });
    }
  });
});
