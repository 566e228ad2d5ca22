// The container driver's own lifecycle: a new Slipway adopts the running containers (they kept
// serving, their records still name them), its supervisor replaces a container that dies, and
// destroying the environment leaves no container and no network of it. Deploys leave in
// podman's storage only the images of the current and previous release (and any in use).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putImage } from '../../src/artifacts/oci.ts';
import { readImageConfig, readManifest } from '../../src/artifacts/oci-format.ts';
import type { Environment } from '../../src/domain/model.ts';
import { ContainersDriver } from '../../src/topology/containers/containers-driver.ts';
import { imageTag } from '../../src/topology/containers/images.ts';
import { networkName } from '../../src/topology/containers/app-runner.ts';
import { ENV_LABEL } from '../../src/topology/containers/podman.ts';
import { httpGet } from '../../src/topology/local/http.ts';
import { isOurProcess } from '../../src/topology/local/proc.ts';
import { loadState } from '../../src/topology/local/state.ts';
import { containersProblem, deployedEnvironment, deployOptions, release, type DeployedEnvironment } from './support.ts';

const noContainers = await containersProblem();

describe.skipIf(noContainers !== undefined)('the container driver', () => {
  let de: DeployedEnvironment;
  let env: Environment;
  let second: ContainersDriver | undefined;
  /** The adopting driver's own log (housekeeping such as pruning podman's storage goes there). */
  const driverLog: string[] = [];

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
    second = new ContainersDriver({ dataDir: de.fx.dataDir, store: de.fx.store, stopGraceMs: 2000, log: (l) => driverLog.push(l) });
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

  describe('podman\'s storage', () => {
    // Releases A, B and C: the setup's image with a label of this run, so the same layers (loading
    // one costs a manifest and a config, not the node binary again) under new digests. The setup's
    // own image is the sample app's in every test file: another file's container may hold it
    // while this one runs, and an image in use is never removed. An earlier run leaves none behind.
    const images: Record<string, string> = {};
    const run = randomBytes(6).toString('hex');
    const variant = async (name: string): Promise<string> => {
      const a = de.fx.appImage;
      const [manifest, { config }] = await Promise.all([readManifest(de.fx.store, a), readImageConfig(de.fx.store, a)]);
      return (await putImage(de.fx.store, manifest.layers, {
        ...(config.Cmd ? { cmd: config.Cmd } : {}), ...(config.WorkingDir ? { workingDir: config.WorkingDir } : {}),
        labels: { 'io.slipway.test.variant': `${name}-${run}` },
      })).digest;
    };
    /** Which of A, B, C podman's storage holds (other Slipways' images are not ours to count). */
    const adopted = (): ContainersDriver => {
      if (!second) throw new Error('not adopted');
      return second;
    };
    const stored = async (): Promise<string[]> => {
      const { stdout } = await adopted().podman.run(['images', '--filter', 'reference=localhost/slipway-image', '--format', '{{.Repository}}:{{.Tag}}']);
      const tags = new Set(stdout.split('\n').map((l) => l.trim()));
      return Object.keys(images).filter((k) => tags.has(imageTag(images[k] ?? ''))).sort();
    };
    /** Deploys, then waits for the prune the deploy left behind; the driver's log lines meanwhile. */
    const deploy = async (name: string, version: string): Promise<string[]> => {
      const from = driverLog.length;
      const outcome = await adopted().deploy(env, { ...release(de.fx, version), appImage: images[name] ?? '' }, deployOptions());
      expect(outcome).toEqual({ outcome: 'deployed' });
      const answer = await httpGet((await loadState(adopted().envDir(env)))?.loadBalancer.port ?? 0, '/page');
      expect(answer.headers['x-app-version']).toBe(version);
      await adopted().pruneImages();
      return driverLog.slice(from);
    };

    beforeAll(async () => {
      images.A = await variant('A');
      images.B = await variant('B');
      images.C = await variant('C');
    });

    afterAll(async () => {
      for (const name of ['A', 'B', 'C']) await second?.podman.run(['image', 'rm', imageTag(images[name] ?? '')]).catch(() => undefined);
    });

    it('keeps only the images of the current and the previous release', async () => {
      expect(await stored()).toEqual([]);
      await deploy('A', 'v2');
      expect(await stored()).toEqual(['A']);
      await deploy('B', 'v3');
      expect(await stored()).toEqual(['A', 'B']);
      const lines = await deploy('C', 'v4');
      expect(await stored()).toEqual(['B', 'C']);
      expect(lines.some((l) => l.includes(`removed the image ${images.A ?? ''}`))).toBe(true);
    }, 180_000);

    it('loads a pruned release\'s image again when it is redeployed, and never removes an image in use', async () => {
      const driver = adopted();
      // A container of B that is not Slipway's (stopped, never started): B stays while it exists.
      const holder = `slipway-prune-holder-${randomBytes(4).toString('hex')}`;
      await driver.podman.run(['create', '--pull', 'never', '--name', holder, imageTag(images.B ?? '')]);
      try {
        await deploy('A', 'v5');
        expect(await stored()).toEqual(['A', 'B', 'C']);
      } finally {
        await driver.podman.remove(holder, 1000);
      }
      await driver.pruneImages();
      expect(await stored()).toEqual(['A', 'C']);
    }, 180_000);
  });

  it('leaves no container and no network once destroyed', async () => {
    if (!second) throw new Error('not adopted');
    const author = (await loadState(second.envDir(env)))?.author.process?.container ?? '';
    const image = (await second.podman.run(['inspect', '--format', '{{.Image}}', author])).stdout.trim();
    await second.destroy(env);
    expect(await second.podman.containers({ [ENV_LABEL]: env.id })).toEqual([]);
    await expect(second.podman.run(['network', 'exists', networkName(env.id)])).rejects.toThrow();
    // A container of the environment that no state file names (the file gone): found by its label.
    await second.podman.run(['create', '--label', `${ENV_LABEL}=${env.id}`, '--name', `stray-${env.id}`, image]);
    await second.destroy(env);
    expect(await second.podman.containers({ [ENV_LABEL]: env.id })).toEqual([]);
  }, 60_000);
});
