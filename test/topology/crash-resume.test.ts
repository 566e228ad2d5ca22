// Slipway (a child process running the deploy) is killed with SIGKILL in the middle of pair 2:
// the environment keeps serving (the nodes are detached), and running the deploy again with
// the record the dead one left (what it completed) finishes the roll with every pair on one
// release, without cycling again what was done. On both drivers: containers outlive Slipway too,
// and the one the dead deploy started but never switched to is removed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LocalDriver } from '../../src/topology/local/local-driver.ts';
import { ContainersDriver } from '../../src/topology/containers/containers-driver.ts';
import { ENV_LABEL } from '../../src/topology/containers/podman.ts';
import { loadState } from '../../src/topology/local/state.ts';
import { pidAlive } from '../../src/runner/pids.ts';
import { HaproxyAdmin } from '../../src/topology/local/haproxy.ts';
import type { Environment } from '../../src/domain/model.ts';
import type { DeployDone } from '../../src/topology/driver.ts';
import {
  containersProblem, deployedEnvironment, deployOptions, release, startLoad, waitUntil, type DriverName, type Fixture,
} from './support.ts';

const here = dirname(fileURLToPath(import.meta.url));
const noContainers = await containersProblem();

describe.each(['local', 'containers'] as DriverName[])('crash mid-roll on the %s driver', (driverName) => {
  let fx: Fixture;
  let driver: LocalDriver;
  let env: Environment;
  let teardown: (() => Promise<void>) | undefined;
  const skip = driverName === 'containers' && noContainers !== undefined;

  beforeAll(async () => {
    if (skip) return;
    // Another process deploys in this test: this one must not supervise (restart) what it stops.
    ({ fx, driver, env, teardown } = await deployedEnvironment(`crash-${driverName}`, 3, { supervise: false }, driverName));
  }, 120_000);

  afterAll(() => teardown?.());

  it.skipIf(skip)('keeps serving when Slipway is killed, and a second run finishes the roll', async () => {
    const dir = driver.envDir(env);
    const state = await loadState(dir);
    const load = startLoad({ port: state?.loadBalancer.port ?? 0, keepAlive: true, maxRequests: 80_000, maxMs: 50_000 });
    const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'deploy-child.ts'), fx.dataDir, env.id, '3',
      JSON.stringify(release(fx, 'v2')), driverName], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await waitUntil(() => load.count() >= 500, 15_000);
      let out = '';
      const killed = new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          // Pair 2 is drained, its new process up and healthy but not switched to yet: the worst moment.
          if (out.includes('"node":"publish-2","action":"deploy","status":"RUNNING"')) {
            child.kill('SIGKILL');
            resolve();
          }
        });
        child.on('exit', () => reject(new Error(`deploy finished before the kill:\n${out}`)));
      });
      await killed;
      const atKill = load.count();
      await waitUntil(() => load.count() >= atKill + 3000, 20_000); // still serving without Slipway

      const cut = await loadState(dir);
      const stray = cut?.publish[1]?.pending?.process.pid;
      expect(stray).toBeGreaterThan(0);
      const servers = await new HaproxyAdmin(cut?.loadBalancer.socket ?? '').servers();
      expect(servers.find((s) => s.server === 'd2')?.status).toMatch(/^DRAIN/);
      expect(cut?.publish[0]?.release?.version).toBe('v2');

      // The record the deploy step would have kept: its last "done" line.
      const done = out.split('\n').filter((l) => l.startsWith('{"done"'))
        .map((l) => (JSON.parse(l) as { done: DeployDone }).done).at(-1);
      expect(done).toEqual({ author: true, pairs: [0] });
      const outcome = await driver.deploy(env, release(fx, 'v2'), deployOptions([], done ? { done } : {}));
      expect(outcome).toEqual({ outcome: 'deployed' });
      await waitUntil(() => load.count() >= 10_000, 30_000);
      const result = await load.stop();
      expect(result.non2xx).toEqual({});
      expect(result.errors).toEqual({});
      for (const v of Object.keys(result.versions)) expect(['v1', 'v2']).toContain(v);

      expect(pidAlive(stray ?? 0)).toBe(false);
      const resumed = await loadState(dir);
      // Author and pair 1 were done: left alone. Pairs 2 and 3 went through the cycle.
      expect(resumed?.author.process?.pid).toBe(cut?.author.process?.pid);
      expect(resumed?.publish[0]?.process?.pid).toBe(cut?.publish[0]?.process?.pid);
      expect(resumed?.publish[1]?.process?.pid).not.toBe(cut?.publish[1]?.process?.pid);
      expect(resumed?.publish[2]?.process?.pid).not.toBe(cut?.publish[2]?.process?.pid);
      const view = await driver.describe(env);
      expect(view.author.release?.version).toBe('v2');
      expect(view.publish.map((p) => [p.release?.version, p.healthy])).toEqual([['v2', true], ['v2', true], ['v2', true]]);
      expect(view.dispatchers.map((d) => d.lbState)).toEqual(['READY', 'READY', 'READY']);
      if (driver instanceof ContainersDriver) {
        // Found by label: exactly the recorded nodes' containers, the stray one gone.
        const recorded = [resumed?.author, ...resumed?.publish ?? []].map((n) => n?.process?.container).sort();
        expect(await driver.podman.containers({ [ENV_LABEL]: env.id }).then((names) => names.sort())).toEqual(recorded);
      }
    } finally {
      child.kill('SIGKILL');
      load.child.kill('SIGKILL');
    }
  }, 180_000);
});
