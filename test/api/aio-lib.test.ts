// Acceptance: Adobe's own client library, @adobe/aio-lib-cloudmanager@3.1.2, pointed at a real
// listening Slipway on 127.0.0.1, drives real executions end to end through every one of its
// methods: the AEM-only ones (IP allowlists, content sets, content flows) must fail with a
// message that says so, and the last test checks that no method was left out.
import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, call, makeHarness, stepIs, waitForExecution, type Harness } from './harness.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
interface CloudManagerApi {
  listPrograms(): Promise<Json[]>;
  listPipelines(programId: string, options?: { busy?: boolean }): Promise<Json[]>;
  createExecution(programId: string, pipelineId: string, mode?: string): Promise<Json>;
  startExecution(programId: string, pipelineId: string, mode?: string): Promise<string>;
  getCurrentExecution(programId: string, pipelineId: string): Promise<Json>;
  listExecutions(programId: string, pipelineId: string, limit?: number): Promise<Json[]>;
  getExecution(programId: string, pipelineId: string, executionId: string): Promise<Json>;
  getExecutionStepLog(programId: string, pipelineId: string, executionId: string, action: string, logFile: string | Writable, out?: Writable): Promise<unknown>;
  tailExecutionStepLog(programId: string, pipelineId: string, action: string, out: Writable): Promise<Json>;
  getQualityGateResults(programId: string, pipelineId: string, executionId: string, action: string): Promise<{ metrics: Json[] }>;
  advanceCurrentExecution(programId: string, pipelineId: string): Promise<unknown>;
  cancelCurrentExecution(programId: string, pipelineId: string): Promise<unknown>;
  getPipelineVariables(programId: string, pipelineId: string): Promise<Json[]>;
  setPipelineVariables(programId: string, pipelineId: string, variables: Json[]): Promise<unknown>;
  getEnvironmentVariables(programId: string, environmentId: string): Promise<Json[]>;
  setEnvironmentVariables(programId: string, environmentId: string, variables: Json[]): Promise<unknown>;
  listEnvironments(programId: string): Promise<Json[]>;
  getDeveloperConsoleUrl(programId: string, environmentId: string): Promise<string>;
  deleteEnvironment(programId: string, environmentId: string): Promise<unknown>;
  deleteProgram(programId: string): Promise<unknown>;
  invalidatePipelineCache(programId: string, pipelineId: string): Promise<unknown>;
  deletePipeline(programId: string, pipelineId: string): Promise<unknown>;
  updatePipeline(programId: string, pipelineId: string, changes: Json): Promise<Json>;
  [aemOnly: string]: unknown;
}
interface SdkError extends Error {
  sdkDetails: { requestId?: string; response?: { status: number } };
}
const { init, getCurrentStep, getWaitingStep } = createRequire(import.meta.url)('@adobe/aio-lib-cloudmanager') as {
  init(orgId: string, apiKey: string, accessToken: string, baseUrl: string): Promise<CloudManagerApi>;
  getCurrentStep(execution: Json): Json | undefined;
  getWaitingStep(execution: Json): Json | undefined;
};

/** Environment logs need a real topology: test/api/environment-logs.test.ts drives these three. */
const ENVIRONMENT_LOG_METHODS = ['listAvailableLogOptions', 'downloadLogs', 'tailLog'];

/** What the client's promise rejected with (fails the test if it resolved). */
async function failure(promise: Promise<unknown>): Promise<SdkError> {
  try {
    await promise;
  } catch (e) {
    return e as SdkError;
  }
  throw new Error('expected the call to fail');
}

function collector(): Writable & { text(): string } {
  const chunks: Buffer[] = [];
  const w = new Writable({ write(chunk: Buffer, _enc, cb) { chunks.push(Buffer.from(chunk)); cb(); } }) as Writable & { text(): string };
  w.text = () => Buffer.concat(chunks).toString('utf8');
  return w;
}

let h: Harness;
let cm: CloudManagerApi;
let base: string;
let programId: string;
let pipelineId: string;
/** The client's public methods, and those this file called (through a recording proxy). */
let methods: string[];
const called = new Set<string>();

beforeAll(async () => {
  h = await makeHarness({ handlers: { buildLogMs: 2000 } });
  base = await h.app.listen({ port: 0, host: '127.0.0.1' });
  const client = await init('ORG@AdobeOrg', 'slipway-test-key', ADMIN_TOKEN, base);
  methods = Object.getOwnPropertyNames(Object.getPrototypeOf(client))
    .filter((m) => m !== 'constructor' && m !== 'init' && !m.startsWith('_') && typeof client[m] === 'function');
  // Bound to the client itself, so the calls a method makes internally are not counted.
  cm = new Proxy(client, {
    get(target, name) {
      const value = Reflect.get(target, name) as unknown;
      if (typeof name !== 'string' || typeof value !== 'function') return value;
      if (methods.includes(name)) called.add(name);
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
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
      { name: 'SITE_NAME', value: 'demo' }, { name: 'TOKEN', value: 'hunter2', type: 'secretString', service: 'publish' },
    ]);
    const vars = await cm.getEnvironmentVariables(programId, h.env.stage);
    expect(vars.find((v) => v.name === 'SITE_NAME')).toMatchObject({ value: 'demo', type: 'string' }); // no type: a string
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
    // A log the step never wrote fails with the reason, and nothing lands in the output.
    const none = collector();
    const e = await failure(cm.getExecutionStepLog(programId, pipelineId, executionId, 'build', 'sonarLogFile', none));
    expect(e.message).toMatch(/\(404 Not Found\) - Not Found\(s\): log sonarLogFile of the build step \(FINISHED\) not found/);
    expect(none.text()).toBe('');
  });

  it('advances through the metric override and the approval to the end', async () => {
    const current = await cm.getCurrentExecution(programId, pipelineId);
    expect(getWaitingStep(current)?.action).toBe('codeQuality');
    expect(getCurrentStep(current)?.action).toBe('codeQuality');
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
    const location = await cm.startExecution(programId, pipelineId);
    const execution = { id: /\/execution\/(\d+)$/.exec(location)?.[1] };
    expect(location).toBe(`${base}/api/program/${programId}/pipeline/${pipelineId}/execution/${execution.id as string}`);
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

  it('rejects a bad token with 401 and its reason; every failure carries the request id', async () => {
    const bad = await init('ORG@AdobeOrg', 'key', 'not-a-token', base);
    const e = await failure(bad.listPrograms());
    expect(e.message).toMatch(/\(401 Unauthorized\) - Unauthorized\(s\): the token is not valid/);
    expect(e.sdkDetails.requestId).toMatch(/^[0-9a-f-]{36}$/);
    const missing = await failure(cm.getExecution(programId, pipelineId, '999999'));
    expect(missing.message).toMatch(/\(404 Not Found\) - Not Found\(s\): execution 999999 of pipeline \d+ not found/);
  });

  it('gives the developer console URL of an environment: its page in Slipway\'s UI', async () => {
    const url = await cm.getDeveloperConsoleUrl(programId, h.env.stage);
    expect(url).toBe(`${base}/ui/#/program/${programId}/environment/${h.env.stage}`);
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
  });

  it('deletes an environment and a program', async () => {
    await cm.deleteEnvironment(programId, h.env.dev);
    expect((await cm.listEnvironments(programId)).map((e) => e.type).sort()).toEqual(['prod', 'stage']);
    expect(h.driver.calls).toContainEqual({ method: 'destroy', environmentId: h.env.dev });
    const other = await call(h, 'POST', '/api/programs', { name: 'Short-lived' });
    expect((await cm.listPrograms()).map((p) => p.id)).toContain(other.json.id);
    await cm.deleteProgram(other.json.id as string);
    expect((await cm.listPrograms()).map((p) => p.id)).toEqual([programId]);
  });
});

describe('AEM-only methods fail with a message that says so', () => {
  const reason = (feature: string) => new RegExp(`\\(404 Not Found\\) - Not Found\\(s\\): ${feature} are an AEM feature that Slipway does not have`);
  const aemOnly = (name: string, ...args: unknown[]) => (cm[name] as (...a: unknown[]) => Promise<unknown>)(...args);

  it('IP allowlists: programs have no ipAllowlists link, so the client stops before any request', async () => {
    const calls: [string, unknown[]][] = [
      ['listIpAllowlists', [programId]], ['createIpAllowlist', [programId, 'office', ['192.0.2.0/24']]],
      ['updateIpAllowlist', [programId, '1', ['192.0.2.0/24']]], ['deleteIpAllowlist', [programId, '1']],
      ['addIpAllowlistBinding', [programId, '1', h.env.stage, 'publish']], ['removeIpAllowlistBinding', [programId, '1', h.env.stage, 'publish']],
    ];
    for (const [name, args] of calls) {
      expect((await failure(aemOnly(name, ...args))).message, name).toBe(`[CloudManagerSDK:ERROR_NO_IP_ALLOWLISTS] Program ${programId} does not appear to support IP Allow Lists.`);
    }
  });

  it('content sets and content flows: the routes answer that they are AEM features', async () => {
    const calls: [string, unknown[], string][] = [
      ['createContentSet', [programId, { name: 'set', paths: [{ path: '/content/site' }] }], 'Content sets'],
      ['listContentSets', [programId], 'Content sets'],
      ['getContentSet', [programId, '1'], 'Content sets'],
      ['updateContentSet', [programId, '1', { name: 'set' }], 'Content sets'],
      ['deleteContentSet', [programId, '1'], 'Content sets'],
      ['createContentFlow', [programId, h.env.stage, { contentSetId: '1', destEnvironmentId: h.env.prod }], 'Content flows'],
      ['listContentFlows', [programId], 'Content flows'],
      ['getContentFlow', [programId, '1'], 'Content flows'],
      ['cancelContentFlow', [programId, '1'], 'Content flows'],
    ];
    for (const [name, args, feature] of calls) {
      const e = await failure(aemOnly(name, ...args));
      expect(e.message, name).toMatch(reason(feature));
      expect(e.sdkDetails.response?.status).toBe(404);
    }
  });
});

describe('coverage of the client', () => {
  it('every public method of the client was driven by this file (the environment-log ones by environment-logs.test.ts, on a real topology)', () => {
    expect(methods.length).toBeGreaterThan(30);
    expect(methods.filter((m) => !called.has(m) && !ENVIRONMENT_LOG_METHODS.includes(m))).toEqual([]);
  });
});
