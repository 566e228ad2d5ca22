// What the execution views offer each caller, and what the live view carries: the advance,
// cancel and reExecute links only for a caller whose role allows the action (a DEVELOPER gets
// none, SUPPORT only the managed step's advance); step states say their phase, whether they are
// a gate and whether they ended; the event stream carries the changed step's JSON in the
// caller's view; a person's comment is kept in the step's audit record; a schedule in the past
// is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, addMember, call, makeHarness, stepIs, waitForExecution, type Harness } from './harness.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const REL = 'http://ns.adobe.com/adobecloud/rel/pipeline/';
const ACTION_RELS = ['advance', 'cancel', 'reExecute'].map((r) => `${REL}${r}`);
const stepOf = (execution: Json, action: string): Json => (execution._embedded.stepStates as Json[]).find((s) => s.action === action) as Json;
const actionLinks = (execution: Json): string[] => (execution._embedded.stepStates as Json[])
  .flatMap((s) => Object.keys(s._links as object).filter((r) => ACTION_RELS.includes(r)));

let h: Harness;
let p: string;
let developer: string;
let support: string;
beforeAll(async () => {
  h = await makeHarness({ handlers: { buildLogMs: 10 }, options: { managed: true, schedule: true } });
  p = `/api/program/${h.programId}`;
  developer = await addMember(h, 'devon', 'DEVELOPER');
  support = await addMember(h, 'sam', 'SUPPORT');
});
afterAll(async () => {
  await h?.close();
});

describe('links by role', () => {
  it('offers a waiting gate\'s advance and cancel to an operator only; a DEVELOPER gets no action link anywhere', async () => {
    const start = await call(h, 'PUT', `${p}/pipeline/${h.codeQuality.id}/execution`);
    const id = start.json.id as string;
    await waitForExecution(h, id, stepIs('codeQuality', 'WAITING'));
    const url = `${p}/pipeline/${h.codeQuality.id}/execution/${id}`;
    const asAdmin = (await call(h, 'GET', url)).json;
    const asDeveloper = (await call(h, 'GET', url, undefined, developer)).json;
    expect(Object.keys(stepOf(asAdmin, 'codeQuality')._links)).toEqual(expect.arrayContaining([`${REL}advance`, `${REL}cancel`]));
    expect(actionLinks(asDeveloper)).toEqual([]);
    // The same answers again (the view cache keeps one view per kind of caller).
    expect(actionLinks((await call(h, 'GET', url, undefined, developer)).json)).toEqual([]);
    expect(actionLinks((await call(h, 'GET', url)).json).length).toBeGreaterThan(0);
    const gate = stepOf(asDeveloper, 'codeQuality');
    const single = (await call(h, 'GET', gate._links.self.href as string, undefined, developer)).json;
    expect(Object.keys(single._links as object).filter((r) => ACTION_RELS.includes(r))).toEqual([]);
    // What the link would do is refused to the developer anyway.
    expect((await call(h, 'PUT', `${gate._links.self.href as string}/cancel`, { override: false }, developer)).status).toBe(403);
    // Step states say their phase, that this one is a gate, and that it has not ended.
    expect(gate).toMatchObject({ phase: 'build', phaseName: 'Build', gate: true, ended: false, done: false });
    expect(stepOf(asDeveloper, 'build')).toMatchObject({ gate: false, ended: true, done: true });
    expect(asDeveloper.ended).toBe(false);
    // A rejection's comment is kept in the step's audit record.
    const rejected = await call(h, 'PUT', `${gate._links.self.href as string}/cancel`, { override: false, comment: 'coverage too low' });
    expect(rejected.status).toBe(202);
    const ended = await waitForExecution(h, id, (e) => e.finishedAt !== undefined);
    const details = ended.steps.find((s) => s.action === 'codeQuality')?.details as Json;
    expect(details).toMatchObject({ user: 'admin', input: { override: false, comment: 'coverage too low' } });
    expect((await call(h, 'GET', url, undefined, developer)).json.ended).toBe(true);
  });

  it('offers SUPPORT the managed step\'s advance and nothing else; the operator the approval', async () => {
    const start = await call(h, 'PUT', `${p}/pipeline/${h.fullStack.id}/execution`);
    const id = start.json.id as string;
    const url = `${p}/pipeline/${h.fullStack.id}/execution/${id}`;
    await waitForExecution(h, id, stepIs('codeQuality', 'WAITING'), 60_000);
    // The test build's coverage fails the gate: override it, as an operator.
    const gate = stepOf((await call(h, 'GET', url)).json, 'codeQuality');
    const metrics = (await call(h, 'GET', `${gate._links.self.href as string}/metrics`)).json.metrics as Json[];
    const override = await call(h, 'PUT', gate._links[`${REL}advance`].href as string, { metrics: metrics.map((m) => ({ ...m, override: true })) });
    expect(override.status).toBe(202);
    await waitForExecution(h, id, stepIs('approval', 'WAITING'), 60_000);
    expect(actionLinks((await call(h, 'GET', url, undefined, support)).json)).toEqual([]);
    const approval = stepOf((await call(h, 'GET', url)).json, 'approval');
    expect(approval).toMatchObject({ phase: 'productionDeployment', phaseName: 'Production Deployment', gate: false });
    expect((await call(h, 'PUT', approval._links[`${REL}advance`].href as string, { approved: true })).status).toBe(202);
    // Scheduling refuses a time already past; deploying now goes on.
    await waitForExecution(h, id, stepIs('schedule', 'WAITING'), 60_000);
    const schedule = stepOf((await call(h, 'GET', url)).json, 'schedule');
    const past = await call(h, 'PUT', schedule._links[`${REL}advance`].href as string, { type: 'SCHEDULED', schedule: '2020-01-01T00:00:00.000Z' });
    expect(past.status).toBe(400);
    expect(past.json.invalidParams).toEqual([{ name: 'body.schedule', reason: 'is in the past' }]);
    expect((await call(h, 'PUT', schedule._links[`${REL}advance`].href as string, { type: 'IMMEDIATE' })).status).toBe(202);
    await waitForExecution(h, id, stepIs('managed', 'WAITING'), 60_000);
    const managed = stepOf((await call(h, 'GET', url, undefined, support)).json, 'managed');
    expect(Object.keys(managed._links as object).filter((r) => ACTION_RELS.includes(r))).toEqual([`${REL}advance`]);
    expect(actionLinks((await call(h, 'GET', url, undefined, developer)).json)).toEqual([]);
    expect((await call(h, 'PUT', managed._links[`${REL}advance`].href as string, { start: true }, support)).status).toBe(202);
    await waitForExecution(h, id, (e) => e.status === 'FINISHED', 60_000);
    // Re-execute: offered to the operator, not to the developer.
    const done = (await call(h, 'GET', url)).json;
    expect(actionLinks(done)).toEqual([`${REL}reExecute`]);
    expect(actionLinks((await call(h, 'GET', url, undefined, developer)).json)).toEqual([]);
  }, 90_000);
});

describe('the live view', () => {
  it('carries the changed step\'s JSON in the caller\'s view, and the execution on execution events', async () => {
    const address = await h.app.listen({ port: 0, host: '127.0.0.1' });
    const start = await call(h, 'PUT', `${p}/pipeline/${h.codeQuality.id}/execution`);
    const id = start.json.id as string;
    const events = `${address}${p}/pipeline/${h.codeQuality.id}/execution/${id}/events`;
    type Frames = { event: string; data: Json }[];
    // Connected once the headers are in: the stream subscribed to the bus before it sent them.
    const open = async (token: string) => (await fetch(events, { headers: { authorization: `Bearer ${token}` } })).body!.getReader();
    const read = async (token: string, until: (frames: Frames) => boolean) => collect(await open(token), until);
    const collect = async (reader: ReadableStreamDefaultReader<Uint8Array>, until: (frames: Frames) => boolean) => {
      let text = '';
      const frames: Frames = [];
      while (!until(frames)) {
        const chunk = await reader.read();
        if (chunk.done) break;
        text += Buffer.from(chunk.value).toString('utf8');
        frames.splice(0, frames.length, ...text.split('\n\n').filter((f) => f.startsWith('event:')).map((f) => ({
          event: /^event: (.*)$/m.exec(f)?.[1] ?? '', data: JSON.parse(/^data: (.*)$/m.exec(f)?.[1] ?? 'null') as Json,
        })));
      }
      await reader.cancel();
      return frames;
    };
    const waiting = (frames: Frames) => frames.some((f) => f.event === 'step.waiting');
    const [asAdmin, asDeveloper] = await Promise.all([read(ADMIN_TOKEN, waiting), read(developer, waiting)]);
    for (const frames of [asAdmin, asDeveloper]) {
      expect(frames[0]?.event).toBe('snapshot');
      for (const f of frames.filter((x) => x.event.startsWith('step.'))) {
        expect(f.data.stepState).toMatchObject({ id: f.data.stepId, action: f.data.action, phase: 'build' });
      }
    }
    const gateOf = (frames: Frames) => frames.find((f) => f.event === 'step.waiting')?.data.stepState as Json;
    expect(gateOf(asAdmin)).toMatchObject({ action: 'codeQuality', status: 'WAITING', gate: true });
    expect(Object.keys(gateOf(asAdmin)._links as object)).toContain(`${REL}advance`);
    expect(Object.keys(gateOf(asDeveloper)._links as object).filter((r) => ACTION_RELS.includes(r))).toEqual([]);

    const ending = await open(developer);
    const gate = gateOf(asAdmin);
    await call(h, 'PUT', `${gate._links.self.href as string}/cancel`, { override: false });
    const frames = await collect(ending, (fs) => fs.some((f) => f.event === 'execution.ended'));
    const ended = frames.find((f) => f.event === 'execution.ended')?.data as Json;
    expect(ended.execution).toMatchObject({ id, status: 'FAILED', ended: true });
  });
});
