// Acceptance: Adobe's own client library, @adobe/aio-lib-cloudmanager@3.1.2, pointed at a real
// listening Slipway on 127.0.0.1, drives real executions end to end.
import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, makeHarness, stepIs, waitForExecution, type Harness } from './harness.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
interface CloudManagerApi {
  listPrograms(): Promise<Json[]>;
  listPipelines(programId: string, options?: { busy?: boolean }): Promise<Json[]>;
  createExecution(programId: string, pipelineId: string, mode?: string): Promise<Json>;
  getCurrentExecution(programId: string, pipelineId: string): Promise<Json>;
  listExecutions(programId: string, pipelineId: string, limit?: number): Promise<Json[]>;
  getExecution(programId: string, pipelineId: string, executionId: string): Promise<Json>;
  getExecutionStepLog(programId: string, pipelineId: string, executionId: string, action: string, out: Writable): Promise<unknown>;
  tailExecutionStepLog(programId: string, pipelineId: string, action: string, out: Writable): Promise<Json>;
  getQualityGateResults(programId: string, pipelineId: string, executionId: string, action: string): Promise<{ metrics: Json[] }>;
  advanceCurrentExecution(programId: string, pipelineId: string): Promise<unknown>;
  cancelCurrentExecution(programId: string, pipelineId: string): Promise<unknown>;
  getPipelineVariables(programId: string, pipelineId: string): Promise<Json[]>;
  setPipelineVariables(programId: string, pipelineId: string, variables: Json[]): Promise<unknown>;
  getEnvironmentVariables(programId: string, environmentId: string): Promise<Json[]>;
  setEnvironmentVariables(programId: string, environmentId: string, variables: Json[]): Promise<unknown>;
  listEnvironments(programId: string): Promise<Json[]>;
  invalidatePipelineCache(programId: string, pipelineId: string): Promise<unknown>;
  deletePipeline(programId: string, pipelineId: string): Promise<unknown>;
  updatePipeline(programId: string, pipelineId: string, changes: Json): Promise<Json>;
}
const { init } = createRequire(import.meta.url)('@adobe/aio-lib-cloudmanager') as {
  init(orgId: string, apiKey: string, accessToken: string, baseUrl: string): Promise<CloudManagerApi>;
};

function collector(): Writable & { text(): string } {
  const chunks: Buffer[] = [];
  const w = new Writable({ write(chunk: Buffer, _enc, cb) { chunks.push(Buffer.from(chunk)); cb(); } }) as Writable & { text(): string };
  w.text = () => Buffer.concat(chunks).toString('utf8');
  return w;
}

let h: Harness;
let cm: CloudManagerApi;
let programId: string;
let pipelineId: string;

beforeAll(async () => {
  h = await makeHarness({ handlers: { buildLogMs: 2000 } });
  const base = await h.app.listen({ port: 0, host: '127.0.0.1' });
  cm = await init('ORG@AdobeOrg', 'slipway-test-key', ADMIN_TOKEN, base);
  programId = h.programId;
  pipelineId = h.fullStack.id;
});
afterAll(async () => {
  await h?.close();
});

describe('aio-lib-cloudmanager against Slipway', () => {
  it('lists programs, pipelines and environments', async () => {
    expect((await cm.listPrograms()).map((p) => p.id)).toEqual([programId]);
    const pipelines = await cm.listPipelines(programId);
    expect(pipelines.map((p) => p.id).sort()).toEqual([h.fullStack.id, h.codeQuality.id].sort());
    expect(pipelines.find((p) => p.id === pipelineId)?.status).toBe('IDLE');
    expect((await cm.listEnvironments(programId)).map((e) => e.type).sort()).toEqual(['dev', 'prod', 'stage']);
  });

  it('sets and gets pipeline and environment variables (secrets write-only)', async () => {
    await cm.setPipelineVariables(programId, pipelineId, [{ name: 'MAVEN_OPTS', value: '-Xmx1g', type: 'string', service: 'build' }]);
    expect(await cm.getPipelineVariables(programId, pipelineId)).toEqual([expect.objectContaining({ name: 'MAVEN_OPTS', value: '-Xmx1g', service: 'build' })]);
    await cm.setEnvironmentVariables(programId, h.env.stage, [
      { name: 'SITE_NAME', value: 'demo', type: 'string' }, { name: 'TOKEN', value: 'hunter2', type: 'secretString', service: 'publish' },
    ]);
    const vars = await cm.getEnvironmentVariables(programId, h.env.stage);
    expect(vars.find((v) => v.name === 'SITE_NAME')?.value).toBe('demo');
    expect(vars.find((v) => v.name === 'TOKEN')).not.toHaveProperty('value');
  });

  let executionId: string;

  it('creates an execution, refuses a second one, and tails the running build log', async () => {
    const execution = await cm.createExecution(programId, pipelineId);
    executionId = execution.id as string;
    expect(execution.status).toBe('RUNNING');
    await expect(cm.createExecution(programId, pipelineId)).rejects.toThrow(/already running|412/i);
    expect((await cm.getCurrentExecution(programId, pipelineId)).id).toBe(executionId);
    expect((await cm.listPipelines(programId, { busy: true })).map((p) => p.id)).toEqual([pipelineId]);
    await waitForExecution(h, executionId, stepIs('build', 'RUNNING'));
    const out = collector();
    const final = await cm.tailExecutionStepLog(programId, pipelineId, 'build', out);
    expect(final.status).toBe('FINISHED');
    expect(out.text()).toContain('[test] build line 1\n');
  }, 40_000);

  it('reads quality gate results and the full step log', async () => {
    await waitForExecution(h, executionId, stepIs('codeQuality', 'WAITING'));
    const gate = await cm.getQualityGateResults(programId, pipelineId, executionId, 'codeQuality');
    expect(gate.metrics.find((m) => m.kpi === 'coverage')).toMatchObject({ severity: 'important', passed: false, override: false });
    const out = collector();
    await cm.getExecutionStepLog(programId, pipelineId, executionId, 'build', out);
    expect(out.text()).toContain('[test] build line 10');
  });

  it('advances through the metric override and the approval to the end', async () => {
    await cm.advanceCurrentExecution(programId, pipelineId);
    await waitForExecution(h, executionId, stepIs('approval', 'WAITING'));
    const gate = await cm.getQualityGateResults(programId, pipelineId, executionId, 'codeQuality');
    expect(gate.metrics.find((m) => m.kpi === 'coverage')).toMatchObject({ passed: false, override: true });
    await cm.advanceCurrentExecution(programId, pipelineId);
    const done = await waitForExecution(h, executionId, (e) => e.finishedAt !== undefined);
    expect(done.status).toBe('FINISHED');
    const fetched = await cm.getExecution(programId, pipelineId, executionId);
    expect(fetched._embedded.stepStates.find((s: Json) => s.action === 'approval').details.input).toEqual({ approved: true });
  });

  it('cancels a waiting execution and lists the history', async () => {
    const execution = await cm.createExecution(programId, pipelineId);
    await waitForExecution(h, execution.id as string, stepIs('codeQuality', 'WAITING'));
    await cm.cancelCurrentExecution(programId, pipelineId);
    const ended = await waitForExecution(h, execution.id as string, (e) => e.finishedAt !== undefined);
    expect(ended.steps.find((s) => s.action === 'codeQuality')?.details.input).toEqual({ override: false });
    expect(['FAILED', 'CANCELLED']).toContain(ended.status);
    const history = await cm.listExecutions(programId, pipelineId, 5);
    expect(history.map((e) => e.id)).toEqual([execution.id, executionId]);
  });

  it('updates a pipeline, invalidates its cache and deletes a pipeline', async () => {
    const updated = await cm.updatePipeline(programId, pipelineId, { branch: 'main' });
    expect(updated.phases[0].branch).toBe('main');
    await cm.invalidatePipelineCache(programId, pipelineId);
    // Cloud Manager's cache is the pipeline's build cache: the environments are not touched.
    expect(h.driver.calls.filter((c) => c.method === 'flushCaches')).toEqual([]);
    await cm.deletePipeline(programId, h.codeQuality.id);
    expect((await cm.listPipelines(programId)).map((p) => p.id)).toEqual([pipelineId]);
  });

  it('rejects a bad token with 401', async () => {
    const address = h.app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const bad = await init('ORG@AdobeOrg', 'key', 'not-a-token', `http://127.0.0.1:${port}`);
    await expect(bad.listPrograms()).rejects.toThrow(/401/);
  });
});
