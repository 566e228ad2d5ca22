// Environments through the API on the real local driver: POST provisions author, publish,
// Varnish dispatchers and HAProxy in the background (creating → ready), the topology route
// shows them, and DELETE tears them down.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REL_BASE } from '../../src/api/hal.ts';
import { buildServer } from '../../src/api/server.ts';
import { createSlipway, type Slipway } from '../../src/app.ts';
import { ADMIN_TOKEN, call, type Harness } from './harness.ts';
import { testHandlers } from '../support/test-handlers.ts';

const dir = mkdtempSync(join(tmpdir(), 'slipway-api-env-'));
let slipway: Slipway;
let app: FastifyInstance;
let h: Harness;

beforeAll(async () => {
  slipway = await createSlipway({ dataDir: dir }, { handlers: testHandlers() });
  app = await buildServer(slipway, { adminToken: ADMIN_TOKEN });
  h = { app } as Harness;
});

afterAll(async () => {
  await app?.close();
  await slipway?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('environments on the local driver', () => {
  it('creates an environment in the background, shows its topology, and deletes it', async () => {
    const program = await call(h, 'POST', '/api/programs', { name: 'Env program' });
    const created = await call(h, 'POST', `/api/program/${program.json.id as string}/environments`, { name: 'extra-dev', type: 'dev', driver: 'local' });
    expect(created.json.driver).toBe('local');
    expect(created.status).toBe(201);
    expect(created.json.status).toBe('creating');
    expect(created.json._links[`${REL_BASE}publish`]).toBeUndefined();
    const url = created.json._links.self.href as string;
    for (let i = 0; i < 300 && (await call(h, 'GET', url)).json.status === 'creating'; i++) await new Promise((r) => setTimeout(r, 100));
    const ready = (await call(h, 'GET', url)).json;
    expect(ready.status).toBe('ready');

    const topology = (await call(h, 'GET', `${url}/topology`)).json;
    expect(topology.publish).toHaveLength(2);
    expect(topology.dispatchers).toHaveLength(2);
    // Nothing is deployed yet: the load balancer answers, with no member to serve.
    const lb = topology.loadBalancer.url as string;
    expect((await fetch(`${lb}/`)).status).toBe(503);
    // Its entry point is that load balancer; the author link waits for a release to run.
    expect(ready._links[`${REL_BASE}publish`].href).toBe(lb);
    expect(ready._links[`${REL_BASE}author`]).toBeUndefined();
    expect(ready._links[`${REL_BASE}developerConsole`].href).toMatch(new RegExp(`/ui/#/program/${program.json.id as string}/environment/${ready.id as string}$`));

    expect((await call(h, 'DELETE', url)).status).toBe(204);
    expect((await call(h, 'GET', url)).status).toBe(404);
    await expect(fetch(`${lb}/`)).rejects.toThrow();
    expect((await call(h, 'POST', `/api/program/${program.json.id as string}/environments`, { name: 'x', type: 'qa' })).status).toBe(400);
  }, 60_000);
});
