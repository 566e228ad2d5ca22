// What a container costs an app node: from the start of a node to its first healthy answer, as
// a podman container (image already in podman's storage; then the first start, which pulls it
// from Slipway's store) beside the same app as a sandboxed local process. Figures only.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildImage } from '../src/artifacts/oci.ts';
import { FsArtifactStore } from '../src/artifacts/fs-store.ts';
import { freePort } from '../src/runner/free-port.ts';
import { ContainerAppRunner } from '../src/topology/containers/app-runner.ts';
import { imageTag } from '../src/topology/containers/images.ts';
import { Podman } from '../src/topology/containers/podman.ts';
import { SandboxAppRunner, type AppRunner } from '../src/topology/local/app-runner.ts';
import { isHealthy, waitFor } from '../src/topology/local/http.ts';
import { defaultUnpack, ImageCache } from '../src/topology/local/images.ts';
import { containersProblem, nodeAppImage } from '../test/topology/support.ts';

const RUNS = 8;
const FIXTURE = new URL('../test/topology/fixture-app/server.mjs', import.meta.url).pathname;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function startToHealthy(runner: AppRunner, scratch: string, appImage: string, i: number): Promise<number> {
  const port = await freePort();
  const logDir = join(scratch, 'logs');
  mkdirSync(logDir, { recursive: true });
  const started = performance.now();
  const record = await runner.start({
    environmentId: 'bench-start', node: { name: `publish-${i}`, role: 'publish' }, port, logDir,
    runDir: join(scratch, 'run', String(i)), envDir: scratch, hidePaths: [], log: () => undefined,
    release: { version: 'v1', appImage, variables: {} },
  });
  const healthy = await waitFor(() => isHealthy(port, '/health'), { timeoutMs: 30_000, intervalMs: 10 });
  const ms = performance.now() - started;
  await runner.stop(record, 5000);
  if (!healthy) throw new Error(`node ${i} never became healthy`);
  return ms;
}

export async function run(): Promise<void> {
  const problem = await containersProblem();
  if (problem) { console.log(`container-start skipped: ${problem}`); return; }
  const scratch = mkdtempSync(join(tmpdir(), 'slipway-bench-ctr-'));
  const store = new FsArtifactStore(join(scratch, 'store'));
  const podman = new Podman(join(scratch, 'podman'));
  const containers = new ContainerAppRunner(podman, store);
  try {
    const image = await nodeAppImage(store, scratch, { 'server.mjs': FIXTURE }, 'server.mjs');
    await podman.run(['rmi', '-f', imageTag(image)]).catch(() => undefined);
    const first = await startToHealthy(containers, scratch, image, 0);
    const warm: number[] = [];
    for (let i = 1; i <= RUNS; i++) warm.push(await startToHealthy(containers, scratch, image, i));
    const local = new SandboxAppRunner(new ImageCache(join(scratch, 'images'), store, defaultUnpack));
    const sandboxed: number[] = [];
    // The local driver's form of the same app: its directory, run with this machine's node.
    const hostImage = (await buildImage(store, { dir: dirname(FIXTURE), config: { cmd: ['sh', '-c', `${process.execPath} server.mjs`] } })).digest;
    for (let i = 1; i <= RUNS; i++) sandboxed.push(await startToHealthy(local, scratch, hostImage, 100 + i));
    console.log(`container start → healthy (fixture app, ${RUNS} runs): first (image pulled into podman) ${first.toFixed(0)} ms, then median ${median(warm).toFixed(0)} ms, max ${Math.max(...warm).toFixed(0)} ms`);
    console.log(`sandboxed local process start → healthy, same app: median ${median(sandboxed).toFixed(0)} ms`);
  } finally {
    await containers.sweep({ id: 'bench-start' }, []);
    await containers.removeNetwork('bench-start');
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
