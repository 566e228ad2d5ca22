// The API on PostgreSQL: the routes that write (start, advance, re-execute, redeploy, variables,
// environments, pipelines) through the same in-process server as the SQLite tests, on a fresh
// PostgreSQL database. What the API answers must not depend on the store behind it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REL_BASE, SLIPWAY_REL_BASE } from '../../src/api/hal.ts';
import { eventually } from '../support/eventually.ts';
import { call, makeHarness, stepIs, waitForExecution, type Harness } from './harness.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const stepOf = (e: Json, action: string, env?: string): Json =>
  (e._embedded.stepStates as Json[]).find((s) => s.action === action && (!env || s.environmentType === env)) as Json;

let h: Harness;
let p: string;
beforeAll(async () => {
  // The real deploy step (onto the recording driver): the topology then names who deployed what.
  h = await makeHarness({ backend: 'postgres', handlers: { realDeploy: true } });
  p = `/api/program/${h.programId}`;
});
afterAll(async () => {
  await h?.close();
});

describe('the API on PostgreSQL', () => {
  it('runs an execution through its gates, refuses a second start, re-executes, redeploys, and pages the history', async () => {
    const pl = `${p}/pipeline/${h.fullStack.id}`;
    const started = await call(h, 'PUT', `${pl}/execution`);
    expect(started.status).toBe(201);
    expect((await call(h, 'PUT', `${pl}/execution`)).status).toBe(412);
    const id = started.json.id as string;
    await waitForExecution(h, id, stepIs('codeQuality', 'WAITING'));
    let e = (await call(h, 'GET', `${pl}/execution/${id}`)).json;
    const gate = await call(h, 'PUT', `${stepOf(e, 'codeQuality')._links.self.href as string}/advance`, { metrics: [{ kpi: 'coverage', override: true }] });
    expect(gate.status).toBe(202);
    await waitForExecution(h, id, stepIs('approval', 'WAITING'));
    e = (await call(h, 'GET', `${pl}/execution/${id}`)).json;
    expect((await call(h, 'PUT', `${stepOf(e, 'approval')._links.self.href as string}/advance`, { approved: true })).status).toBe(202);
    await waitForExecution(h, id, (x) => x.status === 'FINISHED');
    e = (await call(h, 'GET', `${pl}/execution/${id}`)).json;
    const reExecute = stepOf(e, 'deploy', 'prod')._links[`${REL_BASE}pipeline/reExecute`] as Json;
    const again = await call(h, 'PUT', reExecute.href as string);
    expect(again.status).toBe(201);
    await waitForExecution(h, again.json.id as string, (x) => x.status === 'FINISHED');
    const page = (await call(h, 'GET', `${pl}/executions?start=0&limit=1`)).json;
    expect(page._totalNumberOfItems).toBe(2);
    expect((page._embedded.executions as Json[])[0]?.trigger).toBe('RE_EXECUTE');
    // The first execution is no longer the last: its release is redeployed through Slipway's link.
    const redeploy = (await call(h, 'GET', `${pl}/execution/${id}`)).json._links[`${SLIPWAY_REL_BASE}redeploy`] as Json;
    const back = await call(h, 'PUT', redeploy.href as string);
    expect(back.status).toBe(201);
    expect(back.json).toMatchObject({ trigger: 'RE_EXECUTE', sourceExecutionId: id });
    await waitForExecution(h, back.json.id as string, (x) => x.status === 'FINISHED');
    const prod = (await call(h, 'GET', `${p}/environment/${h.env.prod}/topology`)).json;
    expect(prod.publish[0].release).toMatchObject({ version: e.artifactsVersion, executionId: back.json.id, pipelineId: h.fullStack.id });
  });

  it('keeps variables (secrets never returned), and creates, provisions and deletes an environment', async () => {
    const vars = `${p}/pipeline/${h.codeQuality.id}/variables`;
    expect((await call(h, 'PATCH', vars, [{ name: 'PLAIN', value: 'one', type: 'string' }, { name: 'TOKEN', value: 's3cret', type: 'secretString' }])).status).toBe(204);
    const listed = JSON.stringify((await call(h, 'GET', vars)).json);
    expect(listed).toContain('PLAIN');
    expect(listed).not.toContain('s3cret');

    const created = await call(h, 'POST', `${p}/environments`, { name: 'pg-dev', type: 'dev' });
    expect(created.status).toBe(201);
    const url = created.json._links.self.href as string;
    const ready = await waitForEnvironment(url, 'ready');
    expect(ready.name).toBe('pg-dev');
    expect((await call(h, 'DELETE', url)).status).toBe(204);
    expect((await call(h, 'GET', url)).status).toBe(404);
  });
});

function waitForEnvironment(url: string, status: string): Promise<Json> {
  return eventually(async () => { const env = (await call(h, 'GET', url)).json; return env.status === status && env; }, 20_000, `${url} ${status}`);
}
