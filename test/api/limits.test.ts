// The API under load from one client: big log downloads are streamed from the file (never a
// whole range in memory), and connections are bounded with header and request timeouts.
import { request, type ClientRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HTTP_LIMITS } from '../../src/api/server.ts';
import { signingKey, UrlSigner } from '../../src/api/signing.ts';
import { makeHarness, type Harness } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await makeHarness();
});
afterAll(async () => {
  await h?.close();
});

const LOG_BYTES = 24 * 1024 * 1024;
const STEP_ID = '424242';

function writeBigLog(): void {
  const w = h.slipway.logs.open(STEP_ID);
  const line = `${'0123456789abcdef'.repeat(7)}0123456789abcde\n`; // 128 bytes
  const block = line.repeat(1024 * 1024 / line.length);
  for (let i = 0; i < LOG_BYTES / block.length; i++) w.write(block);
  w.close();
}

describe('log downloads', () => {
  it('a big log is streamed from the file: slow clients hold no copy of it; ranges read back intact', async () => {
    writeBigLog();
    expect(h.slipway.logs.size(STEP_ID)).toBe(LOG_BYTES);
    const url = await signedLogUrl();
    await h.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = h.app.server.address() as AddressInfo;

    // Clients that read the first chunk of the whole log, then stop reading (a slow download).
    // A server that loaded the log (or a range) into memory would hold CLIENTS × 24 MiB now;
    // one that streams holds a read buffer per client.
    const CLIENTS = 6;
    const before = process.memoryUsage().arrayBuffers;
    const stalled: ClientRequest[] = [];
    const firsts = await Promise.all(Array.from({ length: CLIENTS }, () =>
      new Promise<{ status: number; length: string | undefined }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: url }, (res) => {
          res.once('data', () => {
            res.pause();
            resolve({ status: res.statusCode ?? 0, length: res.headers['content-length'] });
          });
        });
        req.on('error', reject);
        stalled.push(req);
        req.end();
      })));
    const held = process.memoryUsage().arrayBuffers - before;
    for (const req of stalled) req.destroy();
    for (const f of firsts) expect(f).toEqual({ status: 200, length: String(LOG_BYTES) });
    expect(held).toBeLessThan(LOG_BYTES);

    // A range in the middle, read to the end over a real socket.
    const start = 10 * 1024 * 1024 + 5;
    const end = start + 3 * 1024 * 1024 - 1;
    const part = await new Promise<{ status: number; range: string | undefined; body: Buffer }>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path: url, headers: { range: `bytes=${start}-${end}` } }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, range: res.headers['content-range'], body: Buffer.concat(parts) }));
        res.on('error', reject);
      }).on('error', reject).end();
    });
    expect(part.status).toBe(206);
    expect(part.range).toBe(`bytes ${start}-${end}/${LOG_BYTES}`);
    expect(part.body.length).toBe(end - start + 1);
    expect(part.body.subarray(0, 11).toString()).toBe('56789abcdef');
  });
});

async function signedLogUrl(): Promise<string> {
  const signer = new UrlSigner(signingKey(h.slipway.config.dataDir));
  const u = new URL(signer.sign('logs', STEP_ID, 'main'), 'http://127.0.0.1');
  return `${u.pathname}${u.search}`;
}

describe('connection limits', () => {
  it('bounds connections and sets header, request and keep-alive timeouts', () => {
    const server = h.app.server;
    expect(server.maxConnections).toBe(HTTP_LIMITS.MAX_CONNECTIONS);
    expect(server.headersTimeout).toBe(HTTP_LIMITS.HEADERS_TIMEOUT_MS);
    expect(server.requestTimeout).toBe(HTTP_LIMITS.REQUEST_TIMEOUT_MS);
    expect(server.keepAliveTimeout).toBe(HTTP_LIMITS.KEEP_ALIVE_TIMEOUT_MS);
    expect(server.timeout).toBe(HTTP_LIMITS.CONNECTION_TIMEOUT_MS);
    for (const v of Object.values(HTTP_LIMITS)) expect(Number.isFinite(v) && v > 0).toBe(true);
  });
});
