// The repository's own health path (slipway.yaml app.health) rules the deployment: the sample
// site answers on /status/ready in one release and /health in the others. Rolls between them
// under load fail no request; start-up waits, the dispatchers' probes and the load balancer's
// checks follow the release each pair runs (HAProxy checks the dispatchers' own endpoint, which
// each VCL maps to its release's path), and /health is really gone while /status/ready rules.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { buildImage } from '../../src/artifacts/oci.ts';
import { buildAppImage } from '../../src/artifacts/app-image.ts';
import { FsArtifactStore } from '../../src/artifacts/fs-store.ts';
import { parseContract } from '../../src/domain/contract.ts';
import { LocalDriver } from '../../src/topology/local/local-driver.ts';
import { HaproxyAdmin } from '../../src/topology/local/haproxy.ts';
import { httpGet } from '../../src/topology/local/http.ts';
import { loadState, type TopologyState } from '../../src/topology/local/state.ts';
import type { Release } from '../../src/topology/driver.ts';
import { copySampleSite, type SampleVariant } from '../support/sample-repo.ts';
import { deployOptions, environment, startLoad, waitUntil } from './support.ts';

const PATHS = ['/', '/about.html', '/assets/site.css', '/products.html'];
const env = environment('healthpath', 2);
let dataDir: string;
let store: FsArtifactStore;
let driver: LocalDriver;
let state: TopologyState;
const images: Partial<Record<SampleVariant, string>> = {};
let dispatcherImage = '';

/** The sample site built as the build step does (npm run build → dist), imaged with its contract. */
async function sampleImage(variant: SampleVariant): Promise<string> {
  const dir = join(dataDir, `site-${variant}`);
  await copySampleSite(dir, variant);
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: dir, stdio: 'ignore' });
  const contract = parseContract(parseYaml(readFileSync(join(dir, 'slipway.yaml'), 'utf8')));
  if (!dispatcherImage) dispatcherImage = (await buildImage(store, { dir: join(dir, 'dispatcher') })).digest;
  // Without a base: the local driver runs only the image's own layer, on this machine.
  return (await buildAppImage(store, { dir: join(dir, contract.app.output), contract, labels: { program: 'test' } })).digest;
}

function release(version: string, variant: SampleVariant): Release {
  return { version, appImage: images[variant] ?? '', dispatcherImage, variables: {} };
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'slw-health-'));
  store = new FsArtifactStore(dataDir);
  images.default = await sampleImage('default');
  images.otherHealthPath = await sampleImage('otherHealthPath');
  driver = new LocalDriver({ dataDir, store, healthTimeoutMs: 15_000 });
  await driver.provision(env);
  expect(await driver.deploy(env, release('v1', 'default'), deployOptions())).toEqual({ outcome: 'deployed' });
  const loaded = await loadState(driver.envDir(env));
  if (!loaded) throw new Error('no state');
  state = loaded;
});

afterAll(async () => {
  await driver?.destroy(env).catch(() => undefined);
  driver?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function rollUnderLoad(to: Release) {
  const load = startLoad({ port: state.loadBalancer.port, keepAlive: true, paths: PATHS, maxRequests: 40_000, maxMs: 45_000 });
  try {
    await waitUntil(() => load.count() >= 300, 15_000);
    const atStart = load.count();
    const outcome = await driver.deploy(env, to, deployOptions());
    const during = load.count() - atStart;
    await waitUntil(() => load.count() >= atStart + during + 1000, 30_000);
    return { outcome, during, result: await load.stop() };
  } finally {
    load.child.kill('SIGKILL');
  }
}

async function expectAllUp(healthPath: string): Promise<void> {
  const view = await driver.describe(env);
  expect(view.publish.map((p) => p.healthy)).toEqual([true, true]);
  expect(view.dispatchers.map((d) => [d.healthy, d.lbState])).toEqual([[true, 'READY'], [true, 'READY']]);
  expect(view.loadBalancer.healthy).toBe(true);
  // HAProxy's own checks (not only Slipway's): every dispatcher is UP.
  const admin = new HaproxyAdmin(state.loadBalancer.socket);
  const servers = await admin.servers();
  expect(servers.map((s) => s.status)).toEqual(['UP', 'UP']);
  const recorded = await loadState(driver.envDir(env));
  expect(recorded?.publish.map((p) => p.release?.healthPath)).toEqual([healthPath, healthPath]);
  expect(recorded?.dispatchers.map((d) => d.healthPath)).toEqual([healthPath, healthPath]);
  expect((await httpGet(state.loadBalancer.port, healthPath)).status).toBe(200);
}

describe('the release health path', () => {
  it('follows the repository contract through rolls that change it, without a failed request', async () => {
    await expectAllUp('/health');

    const toReady = await rollUnderLoad(release('v2', 'otherHealthPath'));
    expect(toReady.outcome).toEqual({ outcome: 'deployed' });
    expect(toReady.during).toBeGreaterThan(100);
    expect(toReady.result.non2xx).toEqual({});
    expect(toReady.result.errors).toEqual({});
    for (const v of Object.keys(toReady.result.versions)) expect(['v1', 'v2']).toContain(v);
    await expectAllUp('/status/ready');
    // The old path is gone, yet the load balancer keeps both members: it does not check it.
    expect((await httpGet(state.loadBalancer.port, '/health')).status).toBe(404);
    // HAProxy needs a few checks to mark a member down: give it time to (wrongly) do so.
    await new Promise((r) => setTimeout(r, 2500));
    expect((await new HaproxyAdmin(state.loadBalancer.socket).servers()).map((s) => s.status)).toEqual(['UP', 'UP']);

    const back = await rollUnderLoad(release('v3', 'default'));
    expect(back.outcome).toEqual({ outcome: 'deployed' });
    expect(back.result.non2xx).toEqual({});
    expect(back.result.errors).toEqual({});
    for (const v of Object.keys(back.result.versions)) expect(['v2', 'v3']).toContain(v);
    await expectAllUp('/health');
    expect((await httpGet(state.loadBalancer.port, '/status/ready')).status).toBe(404);
  });
});
