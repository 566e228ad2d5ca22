// The new version fails its health check on pair 2: the roll stops, pair 1 (and author) go
// back to the old release with the same drain/warm care, and the load sees no failure. On both
// drivers; on containers, the failed release's containers are gone afterwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalDriver } from '../../src/topology/local/local-driver.ts';
import { ContainersDriver } from '../../src/topology/containers/containers-driver.ts';
import { ENV_LABEL } from '../../src/topology/containers/podman.ts';
import { loadState } from '../../src/topology/local/state.ts';
import type { DeployProgress } from '../../src/topology/driver.ts';
import type { Environment } from '../../src/domain/model.ts';
import {
  containersProblem, deployedEnvironment, deployOptions, release, startLoad, waitUntil, type DriverName, type Fixture,
} from './support.ts';

const noContainers = await containersProblem();

describe.each(['local', 'containers'] as DriverName[])('rollback on the %s driver', (driverName) => {
  let fx: Fixture;
  let driver: LocalDriver;
  let env: Environment;
  let teardown: (() => Promise<void>) | undefined;
  const skip = driverName === 'containers' && noContainers !== undefined;

  beforeAll(async () => {
    if (skip) return;
    ({ fx, driver, env, teardown } = await deployedEnvironment(`rollback-${driverName}`, 3, { healthTimeoutMs: 10_000 }, driverName));
  }, 120_000);

  afterAll(() => teardown?.());

  it.skipIf(skip)('rolls every changed pair back when publish-2 fails its health check', async () => {
    const state = await loadState(driver.envDir(env));
    const load = startLoad({ port: state?.loadBalancer.port ?? 0, keepAlive: true, maxRequests: 60_000, maxMs: 45_000 });
    const progress: DeployProgress[] = [];
    try {
      await waitUntil(() => load.count() >= 500, 15_000);
      const outcome = await driver.deploy(env, release(fx, 'v2', { FAIL_HEALTH_ON: 'publish-2' }), deployOptions(progress));
      await waitUntil(() => load.count() >= 5000, 30_000);
      const result = await load.stop();
      expect(outcome.outcome).toBe('rolledBack');
      expect(outcome).toMatchObject({ reason: expect.stringContaining('publish-2') });
      expect(result.non2xx).toEqual({});
      expect(result.errors).toEqual({});
      for (const v of Object.keys(result.versions)) expect(['v1', 'v2']).toContain(v);
      // pair 3 was never touched; pair 1 was changed and rolled back, with drain and warm-up.
      expect(progress.some((p) => p.node === 'publish-3')).toBe(false);
      // publish-2's release failed while starting beside the old one: pair 2 never left the load balancer.
      expect(progress.some((p) => p.node === 'publish-2' && p.action === 'start' && p.status === 'FAILED')).toBe(true);
      expect(progress.some((p) => p.node === 'dispatcher-2' && p.action === 'drain')).toBe(false);
      expect(progress.filter((p) => p.node === 'publish-1' && p.action === 'rollback' && p.status === 'FINISHED')).toHaveLength(1);
      const pair1Rollback = progress.slice(progress.findIndex((p) => p.action === 'rollback'));
      expect(pair1Rollback.some((p) => p.node === 'dispatcher-1' && p.action === 'warm' && p.status === 'FINISHED')).toBe(true);
      const view = await driver.describe(env);
      expect(view.author.release?.version).toBe('v1');
      expect(view.publish.map((p) => [p.release?.version, p.healthy])).toEqual([['v1', true], ['v1', true], ['v1', true]]);
      expect(view.dispatchers.map((d) => d.lbState)).toEqual(['READY', 'READY', 'READY']);
      const after = await loadState(driver.envDir(env));
      expect(after?.publish.every((p) => p.pending === undefined)).toBe(true);
      if (driver instanceof ContainersDriver) {
        const recorded = [after?.author, ...after?.publish ?? []].map((n) => n?.process?.container).sort();
        expect(await driver.podman.containers({ [ENV_LABEL]: env.id }).then((names) => names.sort())).toEqual(recorded);
      }
    } finally {
      load.child.kill('SIGKILL');
    }
  });
});
