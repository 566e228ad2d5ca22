// runContainer (the podman form of the sandbox) on the real test image: the limits it sets are
// the ones the kernel applies inside, the environment arrives exactly (a multi-line secret
// too, and never on podman's command line), and a run that times out or is cancelled leaves no
// container behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runContainer, type ContainerRunOptions } from '../../src/runner/container.ts';
import { podman, writeContainersConf } from '../../src/runner/podman.ts';
import { sandboxHost } from '../../src/runner/sandbox-host.ts';
import { FsArtifactStore } from '../../src/artifacts/fs-store.ts';
import { buildTestImage, type TestImage } from '../../src/steps/testing/test-image.ts';
import { hostProcesses } from '../support/processes.ts';

let scratch: string;
let conf: string;
let image: TestImage;
let reports: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'slipway-container-'));
  conf = await writeContainersConf(join(scratch, 'podman'));
  const bundle = join(scratch, 'bundle');
  await mkdir(bundle);
  await writeFile(join(bundle, 'hello.txt'), 'hello from the bundle');
  const store = new FsArtifactStore(join(scratch, 'store'));
  image = await buildTestImage({ store, containersConf: conf, signal: new AbortController().signal, log: () => undefined }, bundle);
  reports = join(scratch, 'reports');
  await mkdir(reports);
}, 120_000);

afterAll(async () => {
  await image?.remove();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

async function labelled(label: string): Promise<string> {
  const out = await podman(['ps', '--all', '--quiet', '--filter', `label=${label}`], { containersConf: conf });
  return out.stdout.trim();
}

function run(command: string, extra: Partial<ContainerRunOptions> = {}): Promise<{ out: string; result: Awaited<ReturnType<typeof runContainer>> }> {
  const chunks: Buffer[] = [];
  return runContainer({
    image: image.reference, containersConf: conf, command, workdir: '/tests', env: {},
    mounts: [{ source: reports, target: '/reports', writable: true }],
    limits: { memoryBytes: 256 * 1024 ** 2, pids: 128, cpuShares: 256, diskBytes: 64 * 1024 ** 2 },
    hostPorts: [], labels: { 'io.slipway.step': 'container-test' }, timeoutMs: 60_000,
    onOutput: (c) => chunks.push(c), log: (l) => chunks.push(Buffer.from(`${l}\n`)), ...extra,
  }).then((result) => ({ out: Buffer.concat(chunks).toString('utf8'), result }));
}

describe('runContainer', () => {
  it('applies the memory and pids limits, drops every capability, runs as the sandbox account', async () => {
    const { out, result } = await run('cat hello.txt; echo; id -u; cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max; grep CapEff /proc/self/status');
    expect(result.exitCode, out).toBe(0);
    const lines = out.trim().split('\n');
    expect(lines[0]).toBe('hello from the bundle');
    expect(Number(lines[1])).toBe(sandboxHost().runAs?.uid);
    expect(Number(lines[2])).toBe(256 * 1024 ** 2);
    expect(lines[3]).toBe('128');
    expect(lines[4]).toMatch(/CapEff:\s+0+$/);
  }, 60_000);

  it('is killed for the memory limit and says so', async () => {
    const { result } = await run(`node -e "const a = []; for (;;) a.push(Buffer.alloc(16 << 20, 1))"`);
    expect(result.outOfMemory).toBe(true);
    expect(result.exitCode).not.toBe(0);
    // A command that kills itself the same way is not taken for the memory limit.
    const control = await run("sh -c 'kill -9 $$'");
    expect(control.result.exitCode).toBe(137);
    expect(control.result.outOfMemory).toBe(false);
  }, 60_000);

  it('hands over the environment exactly, a multi-line secret included, and never on a command line', async () => {
    const secret = "line one\nit's line two $HOME `id`";
    const running = run('printf %s "$SECRET" > /reports/secret.txt; echo "$PLAIN"; sleep 2', { env: { SECRET: secret, PLAIN: 'plain value', 'BAD-NAME': 'x' } });
    await new Promise((r) => setTimeout(r, 1000));
    const seen = hostProcesses('line one').filter((p) => !p.cmdline.includes('vitest'));
    const { out, result } = await running;
    expect(result.exitCode, out).toBe(0);
    expect(await readFile(join(reports, 'secret.txt'), 'utf8')).toBe(secret);
    expect(out).toContain('plain value');
    expect(out).toContain('"BAD-NAME" is not a valid environment name');
    expect(seen).toEqual([]);
  }, 60_000);

  it('stops at its time limit and leaves no container', async () => {
    const { result } = await run('sleep 120', { timeoutMs: 3000, labels: { 'io.slipway.step': 'timeout-test' } });
    expect(result.timedOut).toBe(true);
    expect(await labelled('io.slipway.step=timeout-test')).toBe('');
  }, 60_000);

  it('is removed when cancelled', async () => {
    const abort = new AbortController();
    const running = run('echo started; sleep 120', { signal: abort.signal, labels: { 'io.slipway.step': 'cancel-test' } });
    for (let i = 0; i < 100 && (await labelled('io.slipway.step=cancel-test')) === ''; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await labelled('io.slipway.step=cancel-test')).not.toBe('');
    abort.abort();
    const { result } = await running;
    expect(result.cancelled).toBe(true);
    expect(await labelled('io.slipway.step=cancel-test')).toBe('');
  }, 60_000);

  it('is stopped and removed when cancelled while podman is still creating it', async () => {
    const abort = new AbortController();
    const running = run('sleep 120', { signal: abort.signal, labels: { 'io.slipway.step': 'early-cancel-test' } });
    setTimeout(() => abort.abort(), 50);
    const { result } = await running;
    expect(result.cancelled).toBe(true);
    expect(await labelled('io.slipway.step=early-cancel-test')).toBe('');
  }, 60_000);
});
