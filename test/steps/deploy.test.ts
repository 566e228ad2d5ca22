// The deploy step against a real local topology (one pair, to stay quick): it finds the images,
// deploys with the environment's variables per service, writes deploy commands into the step
// details, is idempotent, and deploys only the dispatcher package for webTier pipelines.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildImage } from '../../src/artifacts/oci.ts';
import { deployHandler } from '../../src/steps/deploy.ts';
import type { ExecutionArtifact } from '../../src/steps/handler.ts';
import type { DeployProgress } from '../../src/topology/driver.ts';
import { LocalDriver } from '../../src/topology/local/local-driver.ts';
import { loadState } from '../../src/topology/local/state.ts';
import { httpGet } from '../../src/topology/local/http.ts';
import { makeStepContext } from '../support/step-context.ts';
import { environment, makeFixture, type Fixture } from '../topology/support.ts';

let fx: Fixture;
let driver: LocalDriver;
const env = environment('stepdeploy', 1);

function artifact(type: string, digest: string): ExecutionArtifact {
  return { type, digest, name: `${type.toLowerCase()}.json`, size: 1, stepId: 'build-image' };
}

function context(overrides: { version: string; artifacts: ExecutionArtifact[]; webTier?: boolean }) {
  const base = makeStepContext({ dataDir: fx.dataDir, artifacts: fx.store, driver, environment: env,
    priorArtifacts: overrides.artifacts, environmentVariables: { author: { WHO: 'author' }, publish: { WHO: 'publish' } } });
  base.execution.artifactsVersion = overrides.version;
  if (overrides.webTier) base.pipeline.type = 'webTier';
  return base;
}

beforeAll(async () => {
  fx = await makeFixture();
  driver = new LocalDriver({ dataDir: fx.dataDir, store: fx.store });
  await driver.provision(env);
});

afterAll(async () => {
  await driver.destroy(env).catch(() => undefined);
  driver.close();
  fx.cleanup();
});

describe('deployHandler', () => {
  it('deploys the execution images and reports each deploy command', async () => {
    const ctx = context({ version: '1.0.0', artifacts: [artifact('APP_IMAGE', fx.appImage), artifact('DISPATCHER_IMAGE', fx.dispatcherImage)] });
    const result = await deployHandler.run(ctx);
    expect(result.outcome).toBe('finished');
    const commands = ctx.details.deployCommands as DeployProgress[];
    expect(commands.map((c) => `${c.node} ${c.action} ${c.status}`)).toEqual(expect.arrayContaining([
      'author deploy FINISHED', 'publish-1 deploy FINISHED', 'dispatcher-1 warm FINISHED', 'dispatcher-1 attach FINISHED',
    ]));
    expect((ctx.details.nodes as Record<string, { status: string }>)['dispatcher-1']?.status).toBe('FINISHED');
    expect(ctx.log.text()).toContain('publish-1: deploy FINISHED');
    const state = await loadState(driver.envDir(env));
    expect(state?.author.release?.variables).toEqual({ WHO: 'author' });
    expect(state?.publish[0]?.release).toMatchObject({ version: '1.0.0', variables: { WHO: 'publish' } });
    expect((await httpGet(state?.loadBalancer.port ?? 0, '/x')).headers['x-app-version']).toBe('1.0.0');
  });

  it('is idempotent: the same release again changes nothing', async () => {
    const ctx = context({ version: '1.0.0', artifacts: [artifact('APP_IMAGE', fx.appImage), artifact('DISPATCHER_IMAGE', fx.dispatcherImage)] });
    expect(deployHandler.idempotent).toBe(true);
    expect((await deployHandler.run(ctx)).outcome).toBe('finished');
    expect(ctx.details.deployCommands).toEqual([]);
  });

  it('deploys only the dispatcher package for webTier pipelines', async () => {
    const dir = join(fx.dataDir, 'dispatcher-v2');
    mkdirSync(dir);
    writeFileSync(join(dir, 'dispatcher.yaml'), 'deny: ["^/secret"]\nwarm: ["/"]\n');
    const image = await buildImage(fx.store, { dir });
    const ctx = context({ version: 'web-2', artifacts: [artifact('DISPATCHER_IMAGE', image.digest)], webTier: true });
    expect((await deployHandler.run(ctx)).outcome).toBe('finished');
    const nodes = new Set((ctx.details.deployCommands as DeployProgress[]).map((c) => c.node));
    expect(nodes.has('author')).toBe(false);
    expect(nodes.has('publish-1')).toBe(false);
    const state = await loadState(driver.envDir(env));
    expect(state?.publish[0]?.release?.version).toBe('1.0.0');
    expect(state?.dispatchers[0]?.release?.version).toBe('web-2');
    expect((await httpGet(state?.loadBalancer.port ?? 0, '/secret/x')).status).toBe(403);
  });

  it('fails clearly without an app image', async () => {
    const ctx = context({ version: '3', artifacts: [] });
    expect(await deployHandler.run(ctx)).toMatchObject({ outcome: 'failed', reason: expect.stringContaining('APP_IMAGE') });
  });
});
