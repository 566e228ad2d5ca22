// The new version fails its health check on pair 2: the roll stops, pair 1 (and author) go
// back to the old release with the same drain/warm care, and the load sees no failure.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalDriver } from '../../src/topology/local/local-driver.ts';
import { loadState } from '../../src/topology/local/state.ts';
import type { DeployProgress } from '../../src/topology/driver.ts';
import type { Environment } from '../../src/domain/model.ts';
import { deployedEnvironment, deployOptions, release, startLoad, waitUntil, type Fixture } from './support.ts';

let fx: Fixture;
let driver: LocalDriver;
let env: Environment;
let teardown: () => Promise<void>;

beforeAll(async () => {
  ({ fx, driver, env, teardown } = await deployedEnvironment('rollback', 3, { healthTimeoutMs: 10_000 }));
});

afterAll(() => teardown?.());

describe('rollback', () => {
  it('rolls every changed pair back when publish-2 fails its health check', async () => {
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
      expect(progress.filter((p) => p.node === 'publish-1' && p.action === 'rollback' && p.status === 'FINISHED')).toHaveLength(1);
      const pair1Rollback = progress.slice(progress.findIndex((p) => p.action === 'rollback'));
      expect(pair1Rollback.some((p) => p.node === 'dispatcher-1' && p.action === 'warm' && p.status === 'FINISHED')).toBe(true);
      const view = await driver.describe(env);
      expect(view.author.release?.version).toBe('v1');
      expect(view.publish.map((p) => [p.release?.version, p.healthy])).toEqual([['v1', true], ['v1', true], ['v1', true]]);
      expect(view.dispatchers.map((d) => d.lbState)).toEqual(['READY', 'READY', 'READY']);
      const after = await loadState(driver.envDir(env));
      expect(after?.publish.every((p) => p.pending === undefined)).toBe(true);
    } finally {
      load.child.kill('SIGKILL');
    }
  });
});
