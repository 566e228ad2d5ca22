// The deploy step against a real local topology (one pair, to stay quick): it finds the images,
// deploys with the environment's variables per service, writes its details in Cloud Manager's
// shape (string-encoded deployCommands and deploymentStepDescription, environmentUrls) with
// Slipway's own record under `rollout`, redeploys everything when run again, resumes through
// its own record, and deploys only the dispatcher package for webTier pipelines.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildImage } from '../../src/artifacts/oci.ts';
import { deployHandler } from '../../src/steps/deploy.ts';
import type { ExecutionArtifact } from '../../src/steps/handler.ts';
import type { DeployProgress } from '../../src/topology/driver.ts';
import type { Rollout } from '../../src/steps/deploy-details.ts';
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

function rolloutOf(details: Record<string, unknown>): Rollout {
  return details.rollout as Rollout;
}

/** Cloud Manager's string-encoded arrays, parsed as its clients do. */
function parsed(details: Record<string, unknown>, key: 'deployCommands' | 'deploymentStepDescription'): Record<string, unknown>[] {
  expect(typeof details[key]).toBe('string');
  return JSON.parse(details[key] as string) as Record<string, unknown>[];
}

const bothImages = () => [artifact('APP_IMAGE', fx.appImage), artifact('DISPATCHER_IMAGE', fx.dispatcherImage)];

function context(overrides: {
  version: string; artifacts: ExecutionArtifact[]; webTier?: boolean; stepDetails?: Record<string, unknown>;
  publishVariables?: Record<string, string>;
}) {
  const base = makeStepContext({ dataDir: fx.dataDir, artifacts: fx.store, driver, environment: env,
    priorArtifacts: overrides.artifacts,
    environmentVariables: { author: { WHO: 'author' }, publish: { WHO: 'publish', ...overrides.publishVariables } } });
  base.execution.artifactsVersion = overrides.version;
  if (overrides.webTier) base.pipeline.type = 'webTier';
  if (overrides.stepDetails) base.step.details = overrides.stepDetails;
  return base;
}

beforeAll(async () => {
  fx = await makeFixture();
  driver = new LocalDriver({ dataDir: fx.dataDir, store: fx.store, healthTimeoutMs: 5000 });
  await driver.provision(env);
});

afterAll(async () => {
  await driver.destroy(env).catch(() => undefined);
  driver.close();
  fx.cleanup();
});

describe('deployHandler', () => {
  it('deploys the execution images and reports each deploy command', async () => {
    const ctx = context({ version: '1.0.0', artifacts: bothImages() });
    const result = await deployHandler.run(ctx);
    expect(result.outcome).toBe('finished');
    const rollout = rolloutOf(ctx.details);
    expect(rollout.commands.map((c) => `${c.node} ${c.action} ${c.status}`)).toEqual(expect.arrayContaining([
      'author deploy FINISHED', 'publish-1 deploy FINISHED', 'dispatcher-1 warm FINISHED', 'dispatcher-1 attach FINISHED',
    ]));
    expect(rollout.nodes['dispatcher-1']?.status).toBe('FINISHED');
    expect(rollout.done).toEqual({ author: true, pairs: [0] });
    expect(rollout).toMatchObject({ environmentId: env.id, version: '1.0.0', appImage: fx.appImage, dispatcherOnly: false });
    // Cloud Manager's fields: what was expected, what was performed (every activity finished), where.
    const expected = parsed(ctx.details, 'deployCommands');
    expect(expected[0]).toEqual({ id: 1, stepAction: 'deploy', instanceId: 'author' });
    expect(expected.map((c) => c.id)).toEqual(expected.map((_, k) => k + 1));
    expect(expected.at(-1)).toMatchObject({ stepAction: 'attach', instanceId: 'dispatcher-1' });
    expect(ctx.details.currentDeployCommandId).toBe(String(expected.length));
    const performed = parsed(ctx.details, 'deploymentStepDescription');
    expect(performed.map((a) => `${String(a.instanceId)} ${String(a.stepAction)}`)).toEqual(expect.arrayContaining(
      expected.map((c) => `${String(c.instanceId)} ${String(c.stepAction)}`)));
    for (const a of performed) {
      expect(a).toMatchObject({ status: 'FINISHED', updated: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/) });
    }
    const view = await driver.describe(env);
    expect(ctx.details.environmentUrls).toEqual([
      { instanceType: 'publish', instanceUrl: view.loadBalancer.url }, { instanceType: 'author', instanceUrl: view.author.url },
    ]);
    expect(ctx.log.text()).toContain('publish-1: deploy FINISHED');
    const state = await loadState(driver.envDir(env));
    expect(state?.author.release?.variables).toEqual({ WHO: 'author' });
    expect(state?.publish[0]?.release).toMatchObject({ version: '1.0.0', variables: { WHO: 'publish' } });
    expect((await httpGet(state?.loadBalancer.port ?? 0, '/x')).headers['x-app-version']).toBe('1.0.0');
  });

  it('a new run of the release already deployed (a re-execution) deploys every node again', async () => {
    const before = await loadState(driver.envDir(env));
    const ctx = context({ version: '1.0.0', artifacts: bothImages() });
    expect((await deployHandler.run(ctx)).outcome).toBe('finished');
    const finished = rolloutOf(ctx.details).commands.filter((c) => c.status === 'FINISHED').map((c) => `${c.node} ${c.action}`);
    expect(finished).toEqual(expect.arrayContaining(['author deploy', 'dispatcher-1 drain', 'publish-1 deploy',
      'dispatcher-1 flush', 'dispatcher-1 warm', 'dispatcher-1 health', 'dispatcher-1 attach']));
    const after = await loadState(driver.envDir(env));
    expect(after?.author.process?.pid).not.toBe(before?.author.process?.pid);
    expect(after?.publish[0]?.process?.pid).not.toBe(before?.publish[0]?.process?.pid);
  });

  it('an attempt cut off by a crash resumes after what the step itself recorded as done', async () => {
    const first = context({ version: '1.0.0', artifacts: bothImages() });
    expect(deployHandler.idempotent).toBe(true);
    expect((await deployHandler.run(first)).outcome).toBe('finished');
    const before = await loadState(driver.envDir(env));
    // The same step again, its details as the crashed attempt left them: everything done.
    const resumed = context({ version: '1.0.0', artifacts: bothImages(), stepDetails: { ...first.details } });
    expect((await deployHandler.run(resumed)).outcome).toBe('finished');
    expect(parsed(resumed.details, 'deployCommands')).toEqual([]);
    expect(rolloutOf(resumed.details).commands).toHaveLength(rolloutOf(first.details).commands.length); // history kept, nothing new
    const after = await loadState(driver.envDir(env));
    expect(after?.author.process?.pid).toBe(before?.author.process?.pid);
    expect(after?.publish[0]?.process?.pid).toBe(before?.publish[0]?.process?.pid);
    // A record of another release is not this step's: it deploys everything.
    const other = context({ version: '1.0.1', artifacts: bothImages(), stepDetails: { ...first.details } });
    expect((await deployHandler.run(other)).outcome).toBe('finished');
    expect(parsed(other.details, 'deployCommands').length).toBeGreaterThan(0);
    expect((await loadState(driver.envDir(env)))?.publish[0]?.process?.pid).not.toBe(before?.publish[0]?.process?.pid);
  });

  it('deploys only the dispatcher package for webTier pipelines', async () => {
    const dir = join(fx.dataDir, 'dispatcher-v2');
    mkdirSync(dir);
    writeFileSync(join(dir, 'dispatcher.yaml'), 'deny: ["^/secret"]\nwarm: ["/"]\n');
    const image = await buildImage(fx.store, { dir });
    const ctx = context({ version: 'web-2', artifacts: [artifact('DISPATCHER_IMAGE', image.digest)], webTier: true });
    expect((await deployHandler.run(ctx)).outcome).toBe('finished');
    const nodes = new Set(rolloutOf(ctx.details).commands.map((c: DeployProgress) => c.node));
    expect(nodes.has('author')).toBe(false);
    expect(nodes.has('publish-1')).toBe(false);
    const state = await loadState(driver.envDir(env));
    expect(state?.publish[0]?.release?.version).toBe('1.0.1');
    expect(state?.dispatchers[0]?.release?.version).toBe('web-2');
    expect((await httpGet(state?.loadBalancer.port ?? 0, '/secret/x')).status).toBe(403);
  });

  it('a rollback voids the forward record, so a resumed attempt does not skip pairs', async () => {
    const ctx = context({ version: '2.0.0', artifacts: bothImages(), publishVariables: { FAIL_HEALTH_ON: 'publish-1' } });
    const result = await deployHandler.run(ctx);
    expect(result).toMatchObject({ outcome: 'rolledBack', reason: expect.stringContaining('health') });
    expect(ctx.details.rollingBack).toEqual(expect.stringContaining('health'));
    const rollout = rolloutOf(ctx.details);
    expect(rollout.commands.some((c) => c.node === 'author' && c.action === 'deploy' && c.status === 'FINISHED')).toBe(true);
    expect(rollout.done).toEqual({ author: false, pairs: [] });
    expect(parsed(ctx.details, 'deploymentStepDescription').some((a) => a.stepAction === 'rollback')).toBe(true);
    expect((await loadState(driver.envDir(env)))?.publish[0]?.release?.version).toBe('1.0.1');
  });

  it('fails clearly without an app image', async () => {
    const ctx = context({ version: '3', artifacts: [] });
    expect(await deployHandler.run(ctx)).toMatchObject({ outcome: 'failed', reason: expect.stringContaining('APP_IMAGE') });
  });
});
