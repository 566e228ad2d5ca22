// The container driver's own lifecycle: a new Slipway adopts the running containers (they kept
// serving, their records still name them), its supervisor replaces a container that dies, and
// destroying the environment leaves no container and no network of it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Environment } from '../../src/domain/model.ts';
import { ContainersDriver } from '../../src/topology/containers/containers-driver.ts';
import { networkName } from '../../src/topology/containers/app-runner.ts';
import { ENV_LABEL } from '../../src/topology/containers/podman.ts';
import { httpGet } from '../../src/topology/local/http.ts';
import { isOurProcess } from '../../src/topology/local/proc.ts';
import { loadState } from '../../src/topology/local/state.ts';
import { containersProblem, deployedEnvironment, type DeployedEnvironment } from './support.ts';

const noContainers = await containersProblem();

describe.skipIf(noContainers !== undefined)('the container driver', () => {
  let de: DeployedEnvironment;
  let env: Environment;
  let second: ContainersDriver | undefined;

  beforeAll(async () => {
    de = await deployedEnvironment('ctr-life', 1, { supervise: false }, 'containers');
    env = de.env;
  }, 120_000);

  afterAll(async () => {
    second?.close();
    await de?.teardown();
  });

  it('is adopted by a new Slipway: the same containers, still serving', async () => {
    const before = await loadState(de.driver.envDir(env));
    de.driver.close(); // this Slipway goes away; its containers do not
    second = new ContainersDriver({ dataDir: de.fx.dataDir, store: de.fx.store, stopGraceMs: 2000 });
    await second.adopt(env);
    const after = await loadState(second.envDir(env));
    expect(after?.publish[0]?.process?.container).toBe(before?.publish[0]?.process?.container);
    expect(after?.publish[0]?.process?.pid).toBe(before?.publish[0]?.process?.pid);
    expect(after?.author.process?.pid).toBe(before?.author.process?.pid);
    const answer = await httpGet(after?.loadBalancer.port ?? 0, '/page');
    expect(answer.status).toBe(200);
    expect(answer.headers['x-app-version']).toBe('v1');
  }, 60_000);

  it('replaces a container that dies, on the same port', async () => {
    if (!second) throw new Error('not adopted');
    const before = await loadState(second.envDir(env));
    const dead = before?.publish[0]?.process;
    await second.podman.run(['kill', dead?.container ?? '']);
    let now = await loadState(second.envDir(env));
    for (let i = 0; i < 200 && now?.publish[0]?.process?.pid === dead?.pid; i++) {
      await new Promise((r) => setTimeout(r, 100));
      now = await loadState(second.envDir(env));
    }
    expect(now?.publish[0]?.process?.pid).not.toBe(dead?.pid);
    expect(isOurProcess(now?.publish[0]?.process)).toBe(true);
    expect(now?.publish[0]?.port).toBe(before?.publish[0]?.port);
    // The replacement starts answering a moment after it is recorded.
    let healthy = false;
    for (let i = 0; i < 100 && !healthy; i++) {
      healthy = (await second.describe(env)).publish[0]?.healthy === true;
      if (!healthy) await new Promise((r) => setTimeout(r, 100));
    }
    expect(healthy).toBe(true);
  }, 60_000);

  it('leaves no container and no network once destroyed', async () => {
    if (!second) throw new Error('not adopted');
    await second.destroy(env);
    expect(await second.podman.containers({ [ENV_LABEL]: env.id })).toEqual([]);
    await expect(second.podman.run(['network', 'exists', networkName(env.id)])).rejects.toThrow();
  }, 60_000);
});
