// An environment chooses its topology driver when it is created: `containers` or `local`,
// containers by default wherever they work here. An unknown driver, or containers where podman
// does not work, is a 400 problem; the environment's view shows its driver, and every call for
// it goes to that driver.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createSlipway, type Slipway } from '../../src/app.ts';
import { buildServer } from '../../src/api/server.ts';
import { createProgram } from '../../src/store/programs.ts';
import { TopologyDrivers } from '../../src/topology/drivers.ts';
import { RecordingDriver } from '../support/recording-driver.ts';
import { ADMIN_TOKEN, bearer } from './harness.ts';

let dir: string;
let slipway: Slipway;
let app: FastifyInstance;
let programId: string;
const local = new RecordingDriver();
const containers = new RecordingDriver();
let podmanProblem: string | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'slipway-env-driver-'));
  const driver = new TopologyDrivers({ local, containers, containersProblem: async () => podmanProblem });
  slipway = await createSlipway({ dataDir: join(dir, 'data') }, { driver, runEngine: false });
  app = await buildServer(slipway, { adminToken: ADMIN_TOKEN });
  programId = (await createProgram(slipway.rt.db.kysely, { name: 'Drivers' })).id;
});

afterAll(async () => {
  await app?.close();
  await slipway?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function create(body: Record<string, unknown>) {
  const res = await app.inject({ method: 'POST', url: `/api/program/${programId}/environments`, headers: bearer(), payload: body });
  return { status: res.statusCode, type: String(res.headers['content-type']), json: res.json<Record<string, unknown>>() };
}

async function settle(id: string) {
  for (let i = 0; i < 100; i++) {
    const res = await app.inject({ method: 'GET', url: `/api/program/${programId}/environment/${id}`, headers: bearer() });
    const json = res.json<Record<string, unknown>>();
    if (json.status !== 'creating') return json;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('still creating');
}

describe('the driver of a new environment', () => {
  it('is containers by default where podman works, and its calls go to that driver', async () => {
    podmanProblem = undefined;
    const made = await create({ name: 'on-containers', type: 'dev' });
    expect(made.status).toBe(201);
    expect(made.json.driver).toBe('containers');
    const env = await settle(String(made.json.id));
    expect(env).toMatchObject({ status: 'ready', driver: 'containers' });
    expect(containers.calls).toContainEqual({ method: 'provision', environmentId: made.json.id });
    expect(local.calls.map((c) => c.environmentId)).not.toContain(made.json.id);
  });

  it('is local by default where podman does not work, and local when asked for', async () => {
    podmanProblem = 'podman is not installed';
    const fallback = await create({ name: 'fallback', type: 'dev' });
    expect(fallback.json.driver).toBe('local');
    podmanProblem = undefined;
    const asked = await create({ name: 'asked-local', type: 'dev', driver: 'local' });
    expect(asked.json.driver).toBe('local');
    await settle(String(asked.json.id));
    expect(local.calls).toContainEqual({ method: 'provision', environmentId: asked.json.id });
  });

  it('refuses an unknown driver, and containers where podman does not work, with a 400 problem', async () => {
    const unknown = await create({ name: 'bogus', type: 'dev', driver: 'kubernetes' });
    expect(unknown.status).toBe(400);
    expect(unknown.type).toContain('application/problem+json');
    podmanProblem = 'runc is missing';
    const refused = await create({ name: 'no-podman', type: 'dev', driver: 'containers' });
    expect(refused.status).toBe(400);
    expect(refused.type).toContain('application/problem+json');
    expect(JSON.stringify(refused.json)).toContain('runc is missing');
  });
});
