// Tailing a step log through its signed URL with wait=: a read at the end is held until the
// next bytes land (a line shows up as it is written, not at the next poll), and answers as
// before when nothing comes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/api/server.ts';
import { signingKey, UrlSigner } from '../../src/api/signing.ts';
import { createSlipway, type Slipway } from '../../src/app.ts';

let dataDir: string;
let slipway: Slipway;
let app: FastifyInstance;
let signer: UrlSigner;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'slipway-log-tail-'));
  slipway = await createSlipway({ dataDir }, { runEngine: false });
  app = await buildServer(slipway, { adminToken: 'slw_test_admin_token_0123456789' });
  signer = new UrlSigner(signingKey(dataDir));
});
afterAll(async () => {
  await app?.close();
  await slipway?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('log tail with wait=', () => {
  it('a read at the end returns the bytes written while it waited', async () => {
    const log = slipway.logs.open('9001');
    log.line('first');
    const url = `${signer.sign('logs', '9001', 'main')}&wait=20`;
    const reading = app.inject({ url, headers: { range: 'bytes=6-' } });
    // Written once the request is waiting: without wait= this read would be a 416.
    setTimeout(() => log.line('second'), 200);
    const res = await reading;
    expect(res.statusCode).toBe(206);
    expect(res.body).toBe('second\n');
    expect(res.headers['content-range']).toBe('bytes 6-12/13');
    log.close();
  });

  it('a log not written yet is returned whole once its first line lands', async () => {
    const log = slipway.logs.open('9002');
    const reading = app.inject({ url: `${signer.sign('logs', '9002', 'main')}&wait=20` });
    setTimeout(() => log.line('hello'), 200);
    const res = await reading;
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('hello\n');
    log.close();
  });

  it('nothing new: the same answer as without wait (416 at the end, 404 before the log exists)', async () => {
    const log = slipway.logs.open('9003');
    log.line('only');
    log.close();
    const atEnd = await app.inject({ url: `${signer.sign('logs', '9003', 'main')}&wait=1`, headers: { range: 'bytes=5-' } });
    expect(atEnd.statusCode).toBe(416);
    const missing = await app.inject({ url: `${signer.sign('logs', '9004', 'main')}&wait=1` });
    expect(missing.statusCode).toBe(404);
  });

  it('refuses a wait beyond 30 s as a client error', async () => {
    const res = await app.inject({ url: `${signer.sign('logs', '9003', 'main')}&wait=31` });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
  });
});
