// Webhook subscriptions, deliveries and the event journal through the HTTP API: the challenge,
// roles, the secret never returned, redeliver, journal paging, and event objects that resolve.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getWebhook, webhookSecret } from '../../src/store/webhooks.ts';
import { eventually } from '../support/slipway.ts';
import { accepted, startReceiver, type Receiver } from '../support/webhook-receiver.ts';
import { addMember, ADMIN_TOKEN, call, makeHarness, stepIs, waitForExecution, type Harness } from './harness.ts';

let h: Harness;
let receiver: Receiver;
let p: string;
let base: string;

beforeAll(async () => {
  h = await makeHarness({ handlers: { buildLogMs: 50 } });
  receiver = await startReceiver();
  p = `/api/program/${h.programId}`;
  base = await h.app.listen({ host: '127.0.0.1', port: 0 });
  h.slipway.startWebhooks({ baseUrl: base, retryBaseMs: 20, pollMs: 200 });
});
afterAll(async () => {
  await receiver?.close();
  await h?.close();
});

describe('webhook subscriptions', () => {
  let id: string;

  it('refuses non-http(s) URLs and endpoints that do not echo the challenge, naming the URL', async () => {
    for (const url of ['ftp://127.0.0.1/x', 'file:///etc/passwd', 'not a url']) {
      const res = await call(h, 'POST', `${p}/webhooks`, { url, secret: 'secret-123' });
      expect(res.status, url).toBe(400);
      expect(res.headers['content-type']).toMatch(/problem\+json/);
      expect(res.json.detail).toContain(url);
    }
    receiver.challengeAnswer = 'something else';
    const wrong = await call(h, 'POST', `${p}/webhooks`, { url: receiver.url, secret: 'secret-123' });
    delete receiver.challengeAnswer;
    expect(wrong.status).toBe(400);
    expect(wrong.json.detail).toContain(receiver.url);
    const dead = await call(h, 'POST', `${p}/webhooks`, { url: 'http://127.0.0.1:1/hook', secret: 'secret-123' });
    expect(dead.status).toBe(400);
    expect((await call(h, 'GET', `${p}/webhooks`)).json._totalNumberOfItems).toBe(0);
  });

  it('creates a subscription after the challenge: 201, Location, and never the secret', async () => {
    const asked = receiver.challenges.length;
    const res = await call(h, 'POST', `${p}/webhooks`, { url: receiver.url, secret: 'secret-123' });
    expect(res.status).toBe(201);
    expect(receiver.challenges.length).toBe(asked + 1);
    expect(res.headers.location).toMatch(new RegExp(`${p}/webhooks/${res.json.id}$`));
    expect(res.json).toMatchObject({ url: receiver.url, enabled: true, events: ['execution.started', 'execution.ended', 'step.started', 'step.waiting', 'step.ended'] });
    expect(res.body).not.toContain('secret-123');
    id = res.json.id as string;
    const one = await call(h, 'GET', `${p}/webhooks/${id}`);
    expect(one.status).toBe(200);
    expect(one.body).not.toContain('secret-123');
    // At rest the secret is sealed with the secrets key, and still opens to sign deliveries.
    const row = await h.slipway.rt.db.kysely.selectFrom('webhooks').select('secret').where('id', '=', Number(id)).executeTakeFirstOrThrow();
    expect(row.secret).not.toContain('secret-123');
    expect(webhookSecret((await getWebhook(h.slipway.rt.db.kysely, id))!, h.slipway.rt.secrets)).toBe('secret-123');
  });

  it('operators change, readers list; others are refused', async () => {
    const dev = await addMember(h, 'dora', 'DEVELOPER');
    const mgr = await addMember(h, 'max', 'DEPLOYMENT_MANAGER');
    expect((await call(h, 'GET', `${p}/webhooks`, undefined, dev)).status).toBe(200);
    expect((await call(h, 'POST', `${p}/webhooks`, { url: receiver.url, secret: 'secret-123' }, dev)).status).toBe(403);
    expect((await call(h, 'PATCH', `${p}/webhooks/${id}`, { enabled: true }, dev)).status).toBe(403);
    expect((await call(h, 'DELETE', `${p}/webhooks/${id}`, undefined, dev)).status).toBe(403);
    const other = await call(h, 'POST', `${p}/webhooks`, { url: receiver.url, secret: 'secret-456', events: ['execution.ended'] }, mgr);
    expect(other.status).toBe(201);
    expect((await call(h, 'DELETE', `${p}/webhooks/${other.json.id}`, undefined, mgr)).status).toBe(204);
    expect((await call(h, 'GET', `${p}/webhooks/${other.json.id}`)).status).toBe(404);
  });

  it('PATCH checks a new URL with the challenge and validates events', async () => {
    expect((await call(h, 'PATCH', `${p}/webhooks/${id}`, { url: 'http://127.0.0.1:1/x' })).status).toBe(400);
    expect((await call(h, 'PATCH', `${p}/webhooks/${id}`, { events: ['nope'] })).status).toBe(400);
    const res = await call(h, 'PATCH', `${p}/webhooks/${id}`, { secret: 'secret-789' });
    expect(res.status).toBe(200);
    expect(res.json.url).toBe(receiver.url);
    expect(res.body).not.toContain('secret-789');
  });

  it('delivers an execution\'s events; deliveries are listed and can be redelivered', async () => {
    const start = await call(h, 'PUT', `${p}/pipeline/${h.codeQuality.id}/execution`);
    expect(start.status).toBe(201);
    await waitForExecution(h, start.json.id as string, stepIs('codeQuality', 'WAITING'));
    await eventually(async () => accepted(receiver).some((e) => e.slipway.type === 'step.waiting'));
    type Item = { id: string; status: string; attempts: number; responseCode: number };
    // The endpoint has answered; the delivery's row is written right after.
    const items = await eventually(async () => {
      const deliveries = await call(h, 'GET', `${p}/webhooks/${id}/deliveries`);
      expect(deliveries.status).toBe(200);
      const list = deliveries.json._embedded.deliveries as Item[];
      return list.every((d) => d.status !== 'pending') && list;
    });
    expect(items.length).toBe(accepted(receiver).length);
    for (const d of items) expect(d).toMatchObject({ status: 'delivered', attempts: 1, responseCode: 200 });
    const oldest = items.at(-1)!;
    const firstEventId = accepted(receiver)[0]!.event_id;
    const before = receiver.received.length;
    expect((await call(h, 'POST', `${p}/webhooks/${id}/deliveries/${oldest.id}/redeliver`)).status).toBe(202);
    await eventually(async () => receiver.received.length > before);
    expect(JSON.parse(receiver.received.at(-1)!.body).event_id).toBe(firstEventId);
    expect((await call(h, 'POST', `${p}/webhooks/${id}/deliveries/999999/redeliver`)).status).toBe(404);
  });

  it('an event\'s object is an absolute URL that resolves with a token', async () => {
    const step = accepted(receiver).find((e) => e.slipway.type === 'step.waiting')!;
    const url = (step.event['activitystreams:object'] as { '@id': string })['@id'];
    expect(url.startsWith(`${base}/api/program/`)).toBe(true);
    const res = await fetch(url, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: step.slipway.stepId, action: 'codeQuality', status: 'WAITING' });
    expect((await fetch(url)).status).toBe(401);
  });
});

describe('event journal', () => {
  it('pages through the program\'s events in order with the next cursor', async () => {
    const all = await call(h, 'GET', `${p}/events?limit=1000`);
    expect(all.status).toBe(200);
    const everything = all.json._embedded.events as { event_id: string }[];
    expect(everything.length).toBeGreaterThan(3);
    const paged: string[] = [];
    let after = '0';
    for (let i = 0; i < 100; i++) {
      const page = await call(h, 'GET', `${p}/events?after=${after}&limit=2`);
      const events = page.json._embedded.events as { event_id: string }[];
      if (events.length === 0) {
        expect(page.json.cursor).toBe(after);
        break;
      }
      expect(events.length).toBeLessThanOrEqual(2);
      paged.push(...events.map((e) => e.event_id));
      expect(page.json._links.next.href).toContain(`after=${page.json.cursor}`);
      after = page.json.cursor as string;
    }
    expect(paged).toEqual(everything.map((e) => e.event_id));
    // The webhook received the same events (the subscription existed before the execution).
    expect(new Set(accepted(receiver).map((e) => e.event_id))).toEqual(new Set(paged));
    expect((await call(h, 'GET', `${p}/events?after=abc`)).status).toBe(400);
    const dev = await addMember(h, 'olga', 'DEVELOPER');
    expect((await call(h, 'GET', `${p}/events`, undefined, dev)).status).toBe(200);
    expect((await call(h, 'GET', '/api/program/999/events')).status).toBe(404);
  });
});
