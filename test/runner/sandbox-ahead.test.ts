// A build's chain started ahead (runner/sandbox-ahead.ts): taken by the run that fits it alone,
// ended with it or when not used, its staging reachable only below the data dir's 0700.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aheadPid } from '../../src/runner/sandbox-ahead.ts';
import { sandboxHost } from '../../src/runner/sandbox-host.ts';
import { runSandboxed, sandboxWarm, startSandbox, warmUpSandbox, type SandboxOptions } from '../../src/runner/sandbox.ts';
import { eventually } from '../support/eventually.ts';

const host = sandboxHost();
const limits = { pids: 256, diskBytes: 1024 ** 3 };
let dataDir: string;
let n = 0;

/** A build's dirs, as the engine makes them (umask 077), under the data dir. */
function buildDirs(): { workspace: string; home: string; cache: string } {
  const work = join(dataDir, 'work', `e${++n}`, 's1');
  const dirs = { workspace: join(work, 'workspace'), home: join(work, 'home'), cache: join(dataDir, 'caches', String(n)) };
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dirs;
}

function buildRun(command: string, extra: Partial<SandboxOptions> = {}): SandboxOptions {
  const { workspace, home, cache } = buildDirs();
  return {
    command, workspace, writablePaths: [home], cachePaths: [cache], hidePaths: [dataDir], env: {}, timeoutMs: 20_000,
    limits, network: { outbound: true }, onOutput: () => undefined, log: () => undefined, fresh: true, ...extra,
  };
}

const chainUp = (): Promise<number> => eventually(() => (sandboxWarm() ? aheadPid() : undefined), 15_000, 'a chain started ahead');
const gone = (pid: number): boolean => !existsSync(`/proc/${pid}`) || readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') === true;

describe.runIf(host.bwrap && host.pasta)('a build chain started ahead', () => {
  beforeAll(() => {
    dataDir = mkdtempSync('/var/tmp/slipway-ahead-test-');
    warmUpSandbox({ dataDir, limits });
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('is taken only by a run that fits it: its limits, outbound access without ports, its dirs under the data dir', async () => {
    const chain = await chainUp();
    const elsewhere = mkdtempSync('/var/tmp/slipway-ahead-other-');
    try {
      for (const other of [
        buildRun('true', { limits: { pids: 128 } }),
        buildRun('true', { network: { outbound: true, hostPorts: [1] } }),
        buildRun('true', { workspace: elsewhere }),
      ]) {
        expect((await runSandboxed(other)).exitCode).toBe(0);
        expect(aheadPid()).toBe(chain);
      }
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
    const result = await runSandboxed(buildRun('echo ok > done.txt'));
    expect(result.exitCode).toBe(0);
    expect(aheadPid()).toBeUndefined();
    await eventually(() => gone(chain), 15_000, 'the used chain gone');
  });

  it('a run stopped before its command ends the chain it took: nothing of it is left', async () => {
    const chain = await chainUp();
    const sandbox = startSandbox(buildRun('true'));
    expect(aheadPid()).toBeUndefined();
    await sandbox.stop();
    await eventually(() => gone(chain), 15_000, 'the chain gone');
  });

  it('binds the dirs from below the staged roots: the dirs between are traversable, the data dir stays 0700', async () => {
    await chainUp();
    const run = buildRun('id -u > owner.txt');
    expect((await runSandboxed(run)).exitCode).toBe(0);
    expect(readFileSync(join(run.workspace, 'owner.txt'), 'utf8').trim()).toBe(String(host.uid));
    if (host.runAs) {
      expect(statSync(dataDir).mode & 0o777).toBe(0o700);
      for (const dir of [join(dataDir, 'work'), join(dataDir, 'work', `e${n}`), join(dataDir, 'work', `e${n}`, 's1')]) expect(statSync(dir).mode & 0o777).toBe(0o711);
    }
  });
});
