// The load balancer's retry policy, checked on a real HAProxy with the generated config in
// front of a server that answers every request 503 (what a dispatcher answers when its publish
// node was killed): a GET is retried, a POST is not (a replayed POST could apply twice).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HaproxyAdmin, haproxyConfig } from '../../src/topology/local/haproxy.ts';
import { freePort } from '../../src/runner/free-port.ts';
import { waitFor } from '../../src/topology/local/http.ts';

let dir: string;
let server: Server;
let haproxy: ChildProcess;
let lbPort: number;
const seen: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'slw-retry-'));
  server = createServer((req, res) => {
    if (req.url === '/health') { res.end('ok'); return; }
    seen.push(req.method ?? '');
    req.resume();
    req.on('end', () => { res.statusCode = 503; res.end('down'); });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  lbPort = await freePort();
  const socket = join(dir, 's.sock');
  const config = join(dir, 'haproxy.cfg');
  writeFileSync(config, haproxyConfig({ port: lbPort, socket, healthPath: '/health',
    servers: [{ name: 'd1', port: (server.address() as AddressInfo).port }] }));
  haproxy = spawn('haproxy', ['-f', config, '-db'], { stdio: 'ignore' });
  const admin = new HaproxyAdmin(socket);
  const up = await waitFor(async () => (await admin.server('d1').catch(() => undefined))?.status === 'UP',
    { timeoutMs: 15_000, intervalMs: 50 });
  if (!up) throw new Error('haproxy did not come up');
});

afterAll(async () => {
  haproxy?.kill('SIGKILL');
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

function send(method: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: lbPort, path: '/page', method, agent: false,
      headers: { 'content-length': method === 'POST' ? '2' : '0' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(method === 'POST' ? '{}' : undefined);
  });
}

describe('load balancer retries', () => {
  it('retries a GET answered 503, never a POST', async () => {
    seen.length = 0;
    expect(await send('GET')).toBe(503);
    expect(seen.filter((m) => m === 'GET').length).toBeGreaterThan(1);
    seen.length = 0;
    expect(await send('POST')).toBe(503);
    expect(seen).toEqual(['POST']);
  });
});
