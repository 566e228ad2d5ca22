// "Redeploy this release" (a rollback): an earlier execution whose production deployment
// finished offers Slipway's redeploy link to a role that may deploy, and following it runs the
// production deploy again (the real deploy handler, onto the recording driver) with that
// execution's own artifacts, as a RE_EXECUTE execution naming its source. The link is absent for
// a DEVELOPER, for the last execution (Cloud Manager's reExecute covers it) and for an execution
// whose release never went live; the route then answers 400 with the reason, and 412 while the
// pipeline runs. Each node of the environment names the execution that deployed its release.
// Cloud Manager's rollbackLastSuccessfulExecution, on a pipeline that deploys to production,
// redeploys the release live before the last one that went live; rolled back twice, it returns.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REL_BASE, SLIPWAY_REL_BASE } from '../../src/api/hal.ts';
import { cancelExecution } from '../../src/engine/commands.ts';
import { listExecutionArtifacts } from '../../src/store/artifacts.ts';
import { createPipeline } from '../../src/store/pipelines.ts';
import { addMember, call, makeHarness, stepIs, waitForExecution, type Harness } from './harness.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const REDEPLOY = `${SLIPWAY_REL_BASE}redeploy`;
const RE_EXECUTE = `${REL_BASE}pipeline/reExecute`;
const ROLLBACK = `${REL_BASE}rollbackLastSuccessfulExecution`;
const stepOf = (execution: Json, action: string, env?: string): Json => (execution._embedded.stepStates as Json[])
  .find((s) => s.action === action && (!env || s.environmentType === env)) as Json;

let h: Harness;
let pl: string;
let developer: string;

beforeAll(async () => {
  // A passing quality gate; each execution goes live once approved.
  h = await makeHarness({ handlers: { buildLogMs: 10, codeQualityMetrics: [], realDeploy: true } });
  pl = `/api/program/${h.programId}/pipeline/${h.fullStack.id}`;
  developer = await addMember(h, 'devon', 'DEVELOPER');
});
afterAll(async () => {
  await h?.close();
});

/** A new execution held at its go-live approval; its id. */
async function awaitingApproval(): Promise<string> {
  const start = await call(h, 'PUT', `${pl}/execution`);
  expect(start.status).toBe(201);
  await waitForExecution(h, start.json.id as string, stepIs('approval', 'WAITING'));
  return start.json.id as string;
}

/** A new execution approved and live in production; its JSON. */
async function deployed(): Promise<Json> {
  const id = await awaitingApproval();
  const approval = stepOf((await call(h, 'GET', `${pl}/execution/${id}`)).json, 'approval');
  expect((await call(h, 'PUT', `${approval._links.self.href as string}/advance`, { approved: true })).status).toBe(202);
  await waitForExecution(h, id, (e) => e.status === 'FINISHED');
  return (await call(h, 'GET', `${pl}/execution/${id}`)).json;
}
const digests = async (executionId: string) => (await listExecutionArtifacts(h.slipway.rt.db.kysely, executionId)).map((a) => a.digest).sort();

describe('redeploy an earlier release', () => {
  it('offers the link on an earlier live release only, to an operator, and runs the production deploy with its artifacts', async () => {
    const first = await deployed();
    const second = await deployed();
    const url = (e: Json) => `${pl}/execution/${e.id as string}`;
    const earlier = (await call(h, 'GET', url(first))).json;
    expect(earlier._links[REDEPLOY]).toEqual({ href: `${pl}/execution?sourceExecutionId=${first.id as string}`, templated: false });
    expect((await call(h, 'GET', url(first), undefined, developer)).json._links[REDEPLOY]).toBeUndefined();
    // The last execution is deployed again through Cloud Manager's re-execute, exactly as before.
    const last = (await call(h, 'GET', url(second))).json;
    expect(last._links[REDEPLOY]).toBeUndefined();
    expect(stepOf(last, 'deploy', 'prod')._links[RE_EXECUTE]).toBeDefined();
    expect(stepOf(earlier, 'deploy', 'prod')._links[RE_EXECUTE]).toBeUndefined();
    // The history carries the same links.
    const history = (await call(h, 'GET', `${pl}/executions?start=0&limit=10`)).json._embedded.executions as Json[];
    expect(history.filter((e) => e._links[REDEPLOY]).map((e) => e.id)).toEqual([first.id]);
    // A developer who follows the link anyway is refused.
    expect((await call(h, 'PUT', earlier._links[REDEPLOY].href as string, undefined, developer)).status).toBe(403);

    const started = await call(h, 'PUT', earlier._links[REDEPLOY].href as string);
    expect(started.status).toBe(201);
    expect(started.headers.location).toMatch(new RegExp(`${pl}/execution/${started.json.id as string}$`));
    expect(started.json).toMatchObject({ trigger: 'RE_EXECUTE', sourceExecutionId: first.id, artifactsVersion: first.artifactsVersion });
    expect((started.json._embedded.stepStates as Json[]).map((s) => `${s.action}${s.environmentType ? `:${s.environmentType}` : ''}`))
      .toEqual(['validate', 'build', 'deploy:prod']);
    const done = await waitForExecution(h, started.json.id as string, (e) => e.status === 'FINISHED');
    // The rollback deployed the first build's artifacts, not the second's.
    expect(await digests(done.id)).toEqual(await digests(first.id as string));
    expect(await digests(done.id)).not.toEqual(await digests(second.id as string));
    const rollout = done.steps.find((s) => s.action === 'deploy')?.details.rollout as Json;
    const firstApp = (await listExecutionArtifacts(h.slipway.rt.db.kysely, first.id as string)).find((a) => a.type === 'APP_IMAGE');
    expect(rollout).toMatchObject({ environmentId: h.env.prod, version: first.artifactsVersion, appImage: firstApp?.digest });
    expect(h.driver.releases.get(h.env.prod)).toMatchObject({ version: first.artifactsVersion, appImage: firstApp?.digest });

    // Each node's release names the execution that deployed it: the rollback on prod; on stage the second.
    const topology = (env: string) => call(h, 'GET', `/api/program/${h.programId}/environment/${env}/topology`);
    const prod = (await topology(h.env.prod)).json;
    for (const node of [prod.author, ...prod.publish]) {
      expect(node.release).toMatchObject({ version: first.artifactsVersion, executionId: done.id, pipelineId: h.fullStack.id });
    }
    expect(prod.loadBalancer.release).toBeUndefined();
    expect((await topology(h.env.stage)).json.publish[0].release).toMatchObject({ version: second.artifactsVersion, executionId: second.id });

    // A redeploy of the rollback (itself a re-execution) deploys the original build again.
    await deployed();
    const rolledBack = (await call(h, 'GET', `${pl}/execution/${done.id}`)).json;
    const third = await call(h, 'PUT', rolledBack._links[REDEPLOY].href as string);
    expect(third.status).toBe(201);
    expect(third.json).toMatchObject({ trigger: 'RE_EXECUTE', sourceExecutionId: first.id });
    await waitForExecution(h, third.json.id as string, (e) => e.status === 'FINISHED');
    expect(await digests(third.json.id as string)).toEqual(await digests(first.id as string));
  }, 60_000);

  it('refuses with the reason an execution whose release never went live, and answers 412 while the pipeline runs', async () => {
    const live = await deployed();
    await deployed();
    // This one is cancelled at its approval: it never reached production.
    const gated = await awaitingApproval();
    const busy = await call(h, 'PUT', `${pl}/execution?sourceExecutionId=${live.id as string}`);
    expect(busy.status).toBe(412);
    expect(busy.headers['content-type']).toMatch(/^application\/problem\+json/);
    await cancelExecution(h.slipway.rt, gated, 'admin');
    await waitForExecution(h, gated, (e) => e.finishedAt !== undefined);

    const cancelled = (await call(h, 'GET', `${pl}/execution/${gated}`)).json;
    expect(cancelled._links[REDEPLOY]).toBeUndefined();
    const never = await call(h, 'PUT', `${pl}/execution?sourceExecutionId=${gated}`);
    expect(never.status).toBe(400);
    expect(never.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(never.json.detail).toMatch(/never went live/);
    // Not in this pipeline, not a number, not with a push update.
    expect((await call(h, 'PUT', `${pl}/execution?sourceExecutionId=999999`)).status).toBe(404);
    expect((await call(h, 'PUT', `${pl}/execution?sourceExecutionId=abc`)).status).toBe(400);
    expect((await call(h, 'PUT', `${pl}/execution?sourceExecutionId=${live.id as string}&trigger=PUSH_UPGRADES`)).status).toBe(400);
    // The earlier live release is still offered once the pipeline is idle again.
    expect((await call(h, 'GET', `${pl}/execution/${live.id as string}`)).json._links[REDEPLOY]).toBeDefined();
  }, 60_000);
});

describe('roll back the last successful execution', () => {
  it('redeploys the release live before the last one, and rolled back again returns to it', async () => {
    const link = (await call(h, 'GET', pl)).json._links[ROLLBACK];
    expect(link).toEqual({ href: `${pl}/rollbackLastSuccessfulExecution`, templated: false });
    expect((await call(h, 'GET', `/api/program/${h.programId}/pipeline/${h.codeQuality.id}`)).json._links[ROLLBACK]).toBeUndefined();
    const before = await deployed();
    const last = await deployed();
    expect((await call(h, 'PUT', link.href as string, undefined, developer)).status).toBe(403);

    const back = await call(h, 'PUT', link.href as string);
    expect(back.status).toBe(201);
    expect(back.headers.location).toMatch(new RegExp(`${pl}/execution/${back.json.id as string}$`));
    expect(back.json).toMatchObject({ trigger: 'RE_EXECUTE', sourceExecutionId: before.id, artifactsVersion: before.artifactsVersion });
    // While it runs, another start is refused as any start is.
    expect((await call(h, 'PUT', link.href as string)).status).toBe(412);
    const done = await waitForExecution(h, back.json.id as string, (e) => e.status === 'FINISHED');
    expect(await digests(done.id)).toEqual(await digests(before.id as string));

    // The rollback is now the live release: rolling back again deploys the last build once more.
    const forth = await call(h, 'PUT', link.href as string);
    expect(forth.status).toBe(201);
    expect(forth.json).toMatchObject({ trigger: 'RE_EXECUTE', sourceExecutionId: last.id });
    await waitForExecution(h, forth.json.id as string, (e) => e.status === 'FINISHED');
    expect(await digests(forth.json.id as string)).toEqual(await digests(last.id as string));
  }, 60_000);

  it('answers 400 with the reason when nothing went live before', async () => {
    const fresh = await createPipeline(h.slipway.rt.db.kysely, {
      programId: h.programId, name: 'fresh', type: 'fullStack', trigger: 'MANUAL', repositoryId: h.fullStack.repositoryId,
      branch: 'main', environments: h.fullStack.environments, options: h.fullStack.options,
    });
    const refused = await call(h, 'PUT', `/api/program/${h.programId}/pipeline/${fresh.id}/rollbackLastSuccessfulExecution`);
    expect(refused.status).toBe(400);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.json.detail).toMatch(/nothing to roll back to: no execution of this pipeline has gone live/);
    expect((await call(h, 'PUT', `${pl}x/rollbackLastSuccessfulExecution`)).status).toBe(400);
  });
});
