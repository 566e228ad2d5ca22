// The program's event stream (what the pipelines list, the history and the environments view
// follow): it carries each execution, step and environment event of its program, with the
// pipeline's status and the execution's current step, and nothing of another program; it
// needs a reader's role. And a member's roles change in one request, by an administrator only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { programFrameData } from '../../src/api/routes/program-events.ts';
import type { Execution, StepState } from '../../src/domain/model.ts';
import { createPipeline } from '../../src/store/pipelines.ts';
import { createProgram, createRepository } from '../../src/store/programs.ts';
import { ADMIN_TOKEN, addMember, call, makeHarness, stepIs, waitForExecution, type Harness } from './harness.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Frames = { event: string; data: Json }[];

let h: Harness;
let address: string;
let p: string;
let otherPipeline: string;
let otherProgram: string;
let stranger: string;
let developer: string;
beforeAll(async () => {
  h = await makeHarness({ handlers: { buildLogMs: 10 } });
  p = `/api/program/${h.programId}`;
  const db = h.slipway.rt.db.kysely;
  const other = await createProgram(db, { name: 'Other program' });
  const repo = await createRepository(db, other.id, { name: 'other', url: h.repoDir, description: 'another program\'s repo' });
  otherProgram = other.id;
  otherPipeline = (await createPipeline(db, {
    programId: other.id, name: 'other quality', type: 'codeQuality', trigger: 'MANUAL', repositoryId: repo.id, branch: 'main', environments: {},
  })).id;
  const grant = await call(h, 'POST', `/api/program/${other.id}/members`, { user: 'olga', role: 'DEPLOYMENT_MANAGER' });
  stranger = grant.json.token as string;
  developer = await addMember(h, 'devon', 'DEVELOPER');
  address = await h.app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await h?.close();
});

const stream = (token?: string) => fetch(`${address}${p}/events/stream`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

/** Reads frames until `until` holds (or the stream ends), then lets go of the stream. */
async function collect(res: Response, until: (frames: Frames) => boolean): Promise<Frames> {
  const reader = res.body!.getReader();
  let text = '';
  let frames: Frames = [];
  while (!until(frames)) {
    const chunk = await reader.read();
    if (chunk.done) break;
    text += Buffer.from(chunk.value).toString('utf8');
    frames = text.split('\n\n').filter((f) => f.startsWith('event:')).map((f) => ({
      event: /^event: (.*)$/m.exec(f)?.[1] ?? '', data: JSON.parse(/^data: (.*)$/m.exec(f)?.[1] ?? 'null') as Json,
    }));
  }
  await reader.cancel();
  return frames;
}

describe('the program event stream', () => {
  it('carries its program\'s execution, step and environment events with the pipeline\'s state, and no other program\'s', async () => {
    const res = await stream(developer);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    // Another program's execution runs to its gate while the stream is open.
    const foreign = await call(h, 'PUT', `/api/program/${otherProgram}/pipeline/${otherPipeline}/execution`);
    expect(foreign.status).toBe(201);
    await waitForExecution(h, foreign.json.id as string, stepIs('codeQuality', 'WAITING'));
    // Then one of this program's, and an environment is created.
    const start = await call(h, 'PUT', `${p}/pipeline/${h.codeQuality.id}/execution`);
    const id = start.json.id as string;
    const created = await call(h, 'POST', `${p}/environments`, { name: 'review', type: 'dev' });
    expect(created.status).toBe(201);
    const envId = created.json.id as string;
    const frames = await collect(res, (fs) => fs.some((f) => f.event === 'step.waiting')
      && fs.some((f) => f.event === 'environment.changed' && f.data.environmentId === envId && f.data.status === 'ready'));

    expect(frames.length).toBeGreaterThan(0);
    for (const f of frames) expect(f.data.programId).toBe(h.programId);
    expect(frames.some((f) => f.data.executionId === foreign.json.id)).toBe(false);
    const started = frames.find((f) => f.event === 'execution.started')?.data;
    expect(started).toMatchObject({
      executionId: id, pipelineId: h.codeQuality.id,
      pipeline: { id: h.codeQuality.id, currentExecutionId: id }, execution: { id, pipelineId: h.codeQuality.id, trigger: 'MANUAL' },
    });
    const waiting = frames.find((f) => f.event === 'step.waiting')?.data;
    expect(waiting).toMatchObject({
      pipeline: { status: 'WAITING', currentExecutionId: id },
      execution: { id, status: 'RUNNING', currentStep: { action: 'codeQuality', status: 'WAITING' } },
      step: { action: 'codeQuality', status: 'WAITING' },
    });
    const envStatuses = frames.filter((f) => f.event === 'environment.changed' && f.data.environmentId === envId).map((f) => f.data.status);
    expect(envStatuses).toEqual(['creating', 'ready']);

    // Rejected at the gate: the pipeline goes back to IDLE, without a current execution.
    const ending = await stream(ADMIN_TOKEN);
    const execution = (await call(h, 'GET', `${p}/pipeline/${h.codeQuality.id}/execution/${id}`)).json;
    const gate = (execution._embedded.stepStates as Json[]).find((s) => s.action === 'codeQuality') as Json;
    expect((await call(h, 'PUT', `${gate._links.self.href as string}/cancel`, { override: false })).status).toBe(202);
    const after = await collect(ending, (fs) => fs.some((f) => f.event === 'execution.ended'));
    const ended = after.find((f) => f.event === 'execution.ended')?.data as Json;
    expect(ended.pipeline.status).toBe('IDLE');
    expect(ended.pipeline.currentExecutionId).toBeUndefined();
    expect(ended.execution).toMatchObject({ id, status: 'FAILED' });
    expect(ended.execution.finishedAt).toEqual(expect.any(String));
  });

  it('needs a token (401) and a role on the program (403)', async () => {
    const anonymous = await stream();
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const outsider = await stream(stranger);
    expect(outsider.status).toBe(403);
    expect(outsider.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });
});

describe('a deploy step\'s frame', () => {
  it('says what the deployment does to each node now (the environments view shows a roll from it)', () => {
    const at = new Date('2026-01-01T00:00:00Z');
    const nodes = { 'dispatcher-1': { action: 'drain', status: 'RUNNING', at: at.toISOString() }, 'publish-1': { action: 'deploy', status: 'FINISHED', at: at.toISOString() } };
    const deploy: StepState = {
      id: '7', executionId: '3', index: 4, phase: 'productionDeployment', action: 'deploy', environmentType: 'prod', environmentId: '2',
      status: 'RUNNING', details: { rollout: { version: '1.0.3', environmentId: '2', commands: [], nodes, done: {} } }, metrics: [],
      updatedAt: at, startedAt: at, pauseBeforeRun: false, attempts: 1,
    };
    const execution = {
      id: '3', programId: '1', pipelineId: '1', pipelineType: 'fullStack', status: 'RUNNING', trigger: 'MANUAL', mode: 'NORMAL',
      user: 'admin', createdAt: at, updatedAt: at, steps: [deploy],
    } as Execution;
    const e = { type: 'step.updated', programId: '1', pipelineId: '1', executionId: '3', stepId: '7', action: 'deploy', status: 'RUNNING', at: at.toISOString() } as const;
    expect(programFrameData(e, execution)).toMatchObject({
      pipeline: { status: 'BUSY', currentExecutionId: '3' },
      step: { action: 'deploy', environmentId: '2', rollout: { version: '1.0.3', nodes } },
    });
    // Without the execution (it could not be read) the frame is the event alone.
    expect(programFrameData(e, undefined)).toEqual(e);
  });
});

describe('changing a member\'s role', () => {
  it('sets the roles in one request, for an administrator only, with problem+json for mistakes', async () => {
    const token = await addMember(h, 'rita', 'DEVELOPER');
    const url = `${p}/members/rita`;
    // A developer cannot start an execution; once a deployment manager, the same token can.
    expect((await call(h, 'PUT', `${p}/pipeline/${h.codeQuality.id}/execution`, undefined, token)).status).toBe(403);
    const changed = await call(h, 'PUT', url, { roles: ['DEPLOYMENT_MANAGER'] });
    expect(changed.status).toBe(200);
    expect(changed.json).toEqual({ user: 'rita', roles: ['DEPLOYMENT_MANAGER'], programId: h.programId });
    const members = (await call(h, 'GET', `${p}/members`)).json._embedded.members as Json[];
    expect(members.find((m) => m.user === 'rita')?.roles).toEqual(['DEPLOYMENT_MANAGER']);
    const whoami = (await call(h, 'GET', '/api/whoami', undefined, token)).json;
    expect(JSON.stringify(whoami)).toContain('DEPLOYMENT_MANAGER');
    expect(JSON.stringify(whoami)).not.toContain('DEVELOPER');

    // Only an administrator changes roles; a member's own operator role is not enough.
    const refused = await call(h, 'PUT', url, { roles: ['BUSINESS_OWNER'] }, token);
    expect(refused.status).toBe(403);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    for (const body of [{ roles: [] }, { roles: ['OWNER'] }, { role: 'DEVELOPER' }, { roles: ['DEVELOPER', 'DEVELOPER'] }]) {
      const bad = await call(h, 'PUT', url, body);
      expect(bad.status, JSON.stringify(body)).toBe(400);
      expect(bad.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    const unknown = await call(h, 'PUT', `${p}/members/nobody`, { roles: ['DEVELOPER'] });
    expect(unknown.status).toBe(404);
    // A user of another program is not a member of this one.
    expect((await call(h, 'PUT', `${p}/members/olga`, { roles: ['DEVELOPER'] })).status).toBe(404);
    expect((await call(h, 'GET', `${p}/members`)).json._embedded.members.some((m: Json) => m.user === 'olga')).toBe(false);
  });
});
