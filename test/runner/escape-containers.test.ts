// Escape attempts by an app node on the container driver: its start command runs in a podman
// container on the environment's own network. Slipway's API (a service on the host's loopback,
// like HAProxy's and Varnish's admin) is out of reach, through 127.0.0.1 and through the host's
// address on the container network alike; the image is read-only, the app is not root, and
// its output lands in the node's log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsArtifactStore } from '../../src/artifacts/fs-store.ts';
import { ContainerAppRunner } from '../../src/topology/containers/app-runner.ts';
import { ENV_LABEL, Podman } from '../../src/topology/containers/podman.ts';
import { isOurProcess, type ProcessRecord } from '../../src/topology/local/proc.ts';
import { freePort } from '../../src/runner/free-port.ts';
import { createSlipway, type Slipway } from '../../src/app.ts';
import { buildServer } from '../../src/api/server.ts';
import { containersProblem, nodeAppImage } from '../topology/support.ts';

const noContainers = await containersProblem();

// The app answers /probe with what it could reach from inside.
const PROBE_SERVER = `
const http = require('node:http');
const fs = require('node:fs');
const gateway = () => {
  const line = fs.readFileSync('/proc/net/route', 'utf8').split('\\n').find((l) => l.split('\\t')[1] === '00000000');
  const hex = line.split('\\t')[2];
  return [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join('.');
};
const get = async (url) => {
  try { return (await fetch(url, { signal: AbortSignal.timeout(2000) })).status; } catch { return 'unreachable'; }
};
const probe = async () => {
  const port = process.env.API_PORT;
  const out = { uid: process.getuid(), gateway: gateway() };
  out.apiLoopback = await get('http://127.0.0.1:' + port + '/api/health');
  out.apiViaHost = await get('http://' + out.gateway + ':' + port + '/api/health');
  try { fs.writeFileSync('/app/written.txt', 'x'); out.imageWritable = true; } catch (e) { out.imageWritable = e.code; }
  return out;
};
http.createServer(async (req, res) => {
  res.end(req.url === '/probe' ? JSON.stringify(await probe()) : 'ok');
}).listen(Number(process.env.PORT), process.env.HOST, () => console.log('probe server up'));
`;

describe.skipIf(noContainers !== undefined)('an app node in a container', () => {
  let scratch: string;
  let slipway: Slipway;
  let api: Awaited<ReturnType<typeof buildServer>>;
  let apiPort: number;
  let podman: Podman;
  let runner: ContainerAppRunner;
  let record: ProcessRecord | undefined;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'slipway-escape-ctr-'));
    slipway = await createSlipway({ dataDir: join(scratch, 'data') }, { runEngine: false });
    api = await buildServer(slipway, { adminToken: 'escape-test-token-0123456789' });
    await api.listen({ host: '127.0.0.1', port: 0 });
    const address = api.server.address();
    apiPort = typeof address === 'object' && address ? address.port : 0;
    podman = new Podman(join(scratch, 'podman'));
    runner = new ContainerAppRunner(podman, new FsArtifactStore(join(scratch, 'store')));
  }, 60_000);

  afterAll(async () => {
    await runner?.sweep({ id: 'escape' }, []);
    await runner?.removeNetwork('escape');
    await api?.close();
    await slipway?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('reaches neither Slipway\'s API nor any host loopback service, cannot write its image, is not root', async () => {
    expect((await fetch(`http://127.0.0.1:${apiPort}/api/health`)).status).toBeLessThan(500); // the API does answer the host
    const store = new FsArtifactStore(join(scratch, 'store'));
    await writeFile(join(scratch, 'server.cjs'), PROBE_SERVER);
    const appImage = await nodeAppImage(store, scratch, { 'server.cjs': join(scratch, 'server.cjs') }, 'server.cjs');
    const logDir = join(scratch, 'logs');
    await mkdir(logDir, { recursive: true });
    const port = await freePort();
    record = await runner.start({
      environmentId: 'escape', node: { name: 'publish-1', role: 'publish' }, port, logDir, runDir: join(scratch, 'run'), envDir: scratch,
      release: { version: '1', appImage, variables: { API_PORT: String(apiPort) } }, hidePaths: [], log: () => undefined,
    });
    let up = false;
    for (let i = 0; i < 100 && !up; i++) {
      up = await fetch(`http://127.0.0.1:${port}/`).then((r) => r.ok, () => false);
      if (!up) await new Promise((r) => setTimeout(r, 100));
    }
    expect(up, await readFile(join(logDir, 'publish-1.log'), 'utf8').catch(() => 'no log')).toBe(true);
    const seen = await (await fetch(`http://127.0.0.1:${port}/probe`)).json() as Record<string, unknown>;
    expect(seen.gateway).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(seen.apiLoopback).toBe('unreachable');
    expect(seen.apiViaHost).toBe('unreachable');
    expect(seen.imageWritable).not.toBe(true);
    expect(seen.uid).not.toBe(0);
    expect(isOurProcess(record)).toBe(true);
    expect(await podman.containers({ [ENV_LABEL]: 'escape' })).toEqual([record.container]);
    // Its output goes to the node's log, as a local node's does.
    expect(await readFile(join(logDir, 'publish-1.log'), 'utf8')).toContain('probe server up');
  }, 120_000);

  it('is stopped and removed', async () => {
    await runner.stop(record, 5000);
    expect(isOurProcess(record)).toBe(false);
    expect(await podman.containers({ [ENV_LABEL]: 'escape' })).toEqual([]);
  }, 30_000);
});
