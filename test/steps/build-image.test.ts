// The buildImage step makes images that run anywhere podman does: the sample site's app image
// (Debian's node base + the build output at /app) and its dispatcher image (Varnish + the VCL
// generated from dispatcher.yaml) are loaded into podman and serve, the dispatcher in front of
// the app, with no Slipway process involved. The same commit gives the same digests, built in
// two fresh data dirs. Base images come from the machine-wide cache (built once per machine).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACT_TYPES } from '../../src/artifacts/artifact-types.ts';
import { ensureBaseImage } from '../../src/artifacts/base-image.ts';
import { buildImage, readImageConfig, readManifest, unpackImage } from '../../src/artifacts/oci.ts';
import { parseContract } from '../../src/domain/contract.ts';
import { freePort } from '../../src/runner/free-port.ts';
import { loadIntoPodman } from '../../src/artifacts/podman-image.ts';
import { podman, writeContainersConf } from '../../src/runner/podman.ts';
import { makeBuildImageHandler } from '../../src/steps/build-image.ts';
import type { Environment } from '../../src/domain/model.ts';
import type { ExecutionArtifact } from '../../src/steps/handler.ts';
import { httpGet, isHealthy, waitFor } from '../../src/topology/local/http.ts';
import { makeStepContext, type TestStepContext } from '../support/step-context.ts';
import { copySampleSite, type SampleVariant } from '../support/sample-repo.ts';

const COMMIT = '0123456789abcdef0123456789abcdef01234567';
const BASES_TIMEOUT = 900_000; // only when this machine has never built the node and Varnish bases

let root: string;
let conf: string;
const containers: string[] = [];
const podmanImages: string[] = [];

/** A copy of the sample site built as the build step does, with its artifacts in a fresh data dir. */
async function builtSite(name: string, artifactsVersion: string, variant: SampleVariant = 'default'): Promise<TestStepContext> {
  const site = join(root, `site-${name}`);
  await copySampleSite(site, variant);
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: site, stdio: 'ignore' });
  const prior: ExecutionArtifact[] = []; // filled below; the context reads it when asked
  const ctx = makeStepContext({
    dataDir: join(root, `data-${name}`),
    priorArtifacts: prior,
    repository: { id: '3', programId: '7', name: 'site', url: 'https://deploy:s3cr3t@git.example.com/harbour/site.git?token=x', description: '' },
  });
  ctx.execution.artifactsVersion = artifactsVersion;
  const build = ctx.execution.steps[0];
  if (build) build.details = { commitId: COMMIT };
  const contract = parseContract(parseYaml(readFileSync(join(site, 'slipway.yaml'), 'utf8')));
  const put = async (type: string, digest: string, size: number): Promise<void> => { prior.push({ type, name: type, digest, size, stepId: 'b' }); };
  const output = await buildImage(ctx.artifacts, { dir: join(site, contract.app.output) });
  await put(ARTIFACT_TYPES.BUILD_OUTPUT, output.digest, output.size);
  const contractBlob = await ctx.artifacts.putBytes(JSON.stringify(contract));
  await put(ARTIFACT_TYPES.CONTRACT, contractBlob.digest, contractBlob.size);
  const dispatcher = await buildImage(ctx.artifacts, { dir: join(site, 'dispatcher') });
  await put(ARTIFACT_TYPES.DISPATCHER_PACKAGE, dispatcher.digest, dispatcher.size);
  return ctx;
}

function imageOf(ctx: TestStepContext, type: string): string {
  const found = ctx.recorded.find((a) => a.type === type);
  if (!found) throw new Error(`no ${type} recorded`);
  return found.digest;
}

// As the server composes it: a known registry address and the pipeline's target environments,
// so the step writes Kubernetes manifests too.
const buildImageHandler = makeBuildImageHandler({
  publicUrl: () => 'http://127.0.0.1:8500',
  environment: async (id) => ({
    id, programId: '7', name: id === '21' ? 'stage' : 'prod', description: '', type: id === '21' ? 'stage' : 'prod',
    status: 'ready', region: 'local', settings: { publishCount: 2 }, createdAt: new Date(0), updatedAt: new Date(0),
  } satisfies Environment),
});

let first: TestStepContext;
let second: TestStepContext;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'slipway-build-image-'));
  conf = await writeContainersConf(join(root, 'podman'));
  first = await builtSite('a', '2026.102.030405.0000000042');
  expect((await buildImageHandler.run(first)).outcome).toBe('finished');
  second = await builtSite('b', '2026.102.030405.0000000042');
  expect((await buildImageHandler.run(second)).outcome).toBe('finished');
}, BASES_TIMEOUT);

afterAll(async () => {
  for (const id of containers) await podman(['rm', '--force', '--time', '1', id], { containersConf: conf });
  for (const name of podmanImages) await podman(['rmi', '--force', name], { containersConf: conf });
  first?.cleanup();
  second?.cleanup();
  rmSync(root, { recursive: true, force: true });
});

describe('the app image', () => {
  it('is the node base plus the build output at /app, with a full OCI config', async () => {
    const digest = imageOf(first, ARTIFACT_TYPES.APP_IMAGE);
    const manifest = await readManifest(first.artifacts, digest);
    const base = await ensureBaseImage(first.artifacts, 'node');
    expect(manifest.layers.slice(0, -1)).toEqual(base.layers);
    expect(manifest.layers.at(-1)?.annotations).toBeUndefined();
    const { config } = await readImageConfig(first.artifacts, digest);
    expect(config.Cmd).toEqual(['/bin/sh', '-c', 'node src/server.js']);
    expect(config.WorkingDir).toBe('/app');
    expect(config.User).toBe('10001:10001');
    expect(config.Env).toContain('PORT=8080');
    expect(config.ExposedPorts).toEqual({ '8080/tcp': {} });
    expect(config.Labels).toMatchObject({
      'org.opencontainers.image.revision': COMMIT,
      'org.opencontainers.image.source': 'https://git.example.com/harbour/site.git',
      'org.opencontainers.image.version': '2026.102.030405.0000000042',
      'io.slipway.health': '/health',
    });
    expect(JSON.stringify(config)).not.toContain('s3cr3t');
    expect(first.details).toMatchObject({ images: expect.arrayContaining([expect.objectContaining({ name: 'app', digest })]), base: { name: 'node', packages: [], key: base.key } });
  });

  it('unpacks to its own layer only (what the local driver runs), never the base', async () => {
    const dir = join(root, 'unpacked');
    await unpackImage(first.artifacts, imageOf(first, ARTIFACT_TYPES.APP_IMAGE), dir);
    expect(readdirSync(dir)).toEqual(['app']);
    expect(readdirSync(join(dir, 'app')).sort()).toEqual(['package.json', 'public', 'src']);
  });

  it('the same commit gives the same digests, built again in a fresh data dir', () => {
    for (const type of [ARTIFACT_TYPES.APP_IMAGE, ARTIFACT_TYPES.DISPATCHER_IMAGE, ARTIFACT_TYPES.K8S_MANIFESTS]) {
      expect(imageOf(second, type)).toBe(imageOf(first, type));
    }
  });
});

describe('with podman, outside Slipway', () => {
  it('the app serves its health path, and the dispatcher image serves the app through Varnish', async () => {
    const app = `localhost/slipway-test-app:${process.pid}`;
    const dispatcher = `localhost/slipway-test-dispatcher:${process.pid}`;
    podmanImages.push(app, dispatcher);
    await loadIntoPodman(first.artifacts, imageOf(first, ARTIFACT_TYPES.APP_IMAGE), app, conf);
    await loadIntoPodman(first.artifacts, imageOf(first, ARTIFACT_TYPES.DISPATCHER_IMAGE), dispatcher, conf);

    const appPort = await freePort();
    const started = await podman(['run', '-d', '-p', `127.0.0.1:${appPort}:8080`, app], { containersConf: conf });
    expect(started.stderr).toBe('');
    const appId = started.stdout.trim();
    containers.push(appId);
    expect(await waitFor(() => isHealthy(appPort, '/health'), { timeoutMs: 30_000, intervalMs: 200 })).toBe(true);
    const whoami = await podman(['exec', appId, 'id', '-u'], { containersConf: conf });
    expect(whoami.stdout.trim()).toBe('10001');

    const ip = (await podman(['inspect', '--format', '{{.NetworkSettings.IPAddress}}', appId], { containersConf: conf })).stdout.trim();
    expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const dispatcherPort = await freePort();
    const front = await podman(['run', '-d', '--add-host', `publish:${ip}`, '-p', `127.0.0.1:${dispatcherPort}:8080`, dispatcher], { containersConf: conf });
    expect(front.code).toBe(0);
    containers.push(front.stdout.trim());
    const ready = await waitFor(() => isHealthy(dispatcherPort, '/.slipway/health'), { timeoutMs: 60_000, intervalMs: 250 });
    if (!ready) console.error((await podman(['logs', front.stdout.trim()], { containersConf: conf })).stderr);
    expect(ready).toBe(true);
    const page = await httpGet(dispatcherPort, '/');
    expect(page.status).toBe(200);
    expect(page.headers['x-dispatcher']).toBe('dispatcher');
    expect(page.body).toContain('Harbour');
  }, 180_000);

  it('is a base that a standard builder builds on (FROM the app image)', async () => {
    const app = `localhost/slipway-test-app:${process.pid}`;
    const derived = `localhost/slipway-test-derived:${process.pid}`;
    podmanImages.push(derived);
    const context = mkdtempSync(join(root, 'context-'));
    writeFileSync(join(context, 'Containerfile'), `FROM ${app}\nLABEL io.slipway.test.derived=yes\n`);
    const built = await podman(['build', '--quiet', '--pull=never', '--network=none', '--tag', derived, context], { containersConf: conf });
    expect(built.code, built.stderr).toBe(0);
    const labels = await podman(['image', 'inspect', '--format', '{{index .Labels "io.slipway.test.derived"}}', derived], { containersConf: conf });
    expect(labels.stdout.trim()).toBe('yes');
  }, 120_000);
});

describe('a site that is not Node', () => {
  it('is the static base (busybox, a few MB) plus the site, and busybox httpd serves it in podman', async () => {
    const ctx = await builtSite('static', '2026.102.030405.0000000043', 'staticSite');
    try {
      expect((await buildImageHandler.run(ctx)).outcome).toBe('finished');
      const digest = imageOf(ctx, ARTIFACT_TYPES.APP_IMAGE);
      const manifest = await readManifest(ctx.artifacts, digest);
      expect(manifest.layers).toHaveLength(2);
      expect(manifest.layers[0]?.size).toBeLessThan(8 << 20);
      expect((await readImageConfig(ctx.artifacts, digest)).config.Cmd).toEqual(['/bin/sh', '-c', 'httpd -f -p "$PORT" -h site']);

      const name = `localhost/slipway-test-static:${process.pid}`;
      podmanImages.push(name);
      await loadIntoPodman(ctx.artifacts, digest, name, conf);
      const port = await freePort();
      const started = await podman(['run', '-d', '-p', `127.0.0.1:${port}:8080`, name], { containersConf: conf });
      expect(started.code).toBe(0);
      containers.push(started.stdout.trim());
      expect(await waitFor(() => isHealthy(port, '/health'), { timeoutMs: 30_000, intervalMs: 200 })).toBe(true);
      const page = await httpGet(port, '/');
      expect(page.status).toBe(200);
      expect(page.body).toContain('Served by busybox httpd');
      expect((await httpGet(port, '/assets/site.css')).status).toBe(200);
    } finally {
      ctx.cleanup();
    }
  }, 240_000);
});
