// A Slipway killed between starting an app node and recording it leaves a node no record names.
// At adopt, the local runner's sweep stops such strays, found by the environment's dir that
// every node's outermost process carries: never a recorded node, and never a node of another
// data dir's environment with the same id on this host.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsArtifactStore } from '../../src/artifacts/fs-store.ts';
import { freePort } from '../../src/runner/free-port.ts';
import { SandboxAppRunner } from '../../src/topology/local/app-runner.ts';
import { waitFor } from '../../src/topology/local/http.ts';
import { ImageCache, defaultUnpack } from '../../src/topology/local/images.ts';
import { startAppNode } from '../../src/topology/local/nodes.ts';
import { isOurProcess, stopProcess, type ProcessRecord } from '../../src/topology/local/proc.ts';

const SERVER = `require('node:http').createServer((_q, r) => r.end('ok')).listen(Number(process.env.PORT), '127.0.0.1');`;

let scratch: string;
const started: ProcessRecord[] = [];

beforeAll(async () => { scratch = await mkdtemp(join(tmpdir(), 'slipway-strays-')); });
afterAll(async () => {
  for (const r of started) if (isOurProcess(r)) await stopProcess(r, 1000);
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** An app node of environment `e1` in data dir `data`, answering on its port once up. */
async function node(data: string, name: string): Promise<{ record: ProcessRecord; port: number }> {
  const envDir = join(scratch, data, 'environments', 'e1');
  const rootfs = join(envDir, 'images', 'app', 'rootfs');
  await mkdir(rootfs, { recursive: true });
  await writeFile(join(rootfs, 'server.cjs'), SERVER);
  const port = await freePort();
  const { record } = await startAppNode({
    environmentId: 'e1', node: { name, role: 'publish' }, port, envDir, logDir: envDir, runDir: join(envDir, 'run', name),
    image: { rootfs, config: { cmd: ['node', 'server.cjs'] } }, release: { version: '1', appImage: 'sha256:app', variables: {} },
    hidePaths: [], log: () => undefined,
  });
  started.push(record);
  const up = await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) })
    .then((r) => r.text(), () => '')) === 'ok', { timeoutMs: 30_000, intervalMs: 50 });
  expect(up).toBe(true);
  return { record, port };
}

const answers = (port: number) => fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) }).then(() => true, () => false);

describe('the local runner\'s sweep at adopt', () => {
  it('stops the environment\'s unrecorded node; keeps its recorded one and another data dir\'s', async () => {
    const [recorded, stray, other] = await Promise.all([node('data-a', 'publish-1'), node('data-a', 'publish-2'), node('data-b', 'publish-2')]);
    const runner = new SandboxAppRunner(new ImageCache(join(scratch, 'images'), new FsArtifactStore(join(scratch, 'store')), defaultUnpack));

    await runner.sweep({ id: 'e1', dir: join(scratch, 'data-a', 'environments', 'e1') }, [recorded.record]);

    expect(isOurProcess(stray.record)).toBe(false);
    expect(await answers(stray.port)).toBe(false);
    expect(isOurProcess(recorded.record)).toBe(true);
    expect(await answers(recorded.port)).toBe(true);
    expect(isOurProcess(other.record)).toBe(true);
    expect(await answers(other.port)).toBe(true);
  }, 90_000);
});
