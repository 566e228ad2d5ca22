// The dispatchers' admin CLI over a kept connection, against a real varnishd: found and
// authenticated from the work dir alone, answers as varnishadm does (errors included), finds a
// restarted varnishd again, and says "unavailable" (so varnishadm takes over) when there is none.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CliUnavailable, cliCommand } from '../../src/topology/local/varnish-cli.ts';
import { VarnishAdmin } from '../../src/topology/local/varnish.ts';
import { pidAlive } from '../../src/runner/pids.ts';
import { waitFor } from '../../src/topology/local/http.ts';

const run = promisify(execFile);
const VCL = `vcl 4.1;
import directors;
backend slot_a { .host = "127.0.0.1"; .port = "9"; }
backend slot_b { .host = "127.0.0.1"; .port = "10"; }
sub vcl_init { new f = directors.fallback(); f.add_backend(slot_a); f.add_backend(slot_b); }
sub vcl_recv { set req.backend_hint = f.backend(); }
`;

let dir: string;
let workDir: string;

async function startVarnishd(): Promise<number> {
  await run('varnishd', ['-j', 'none', '-n', workDir, '-a', '127.0.0.1:0', '-f', join(dir, 'boot.vcl'), '-s', 'malloc,8m',
    '-P', join(dir, 'pid')]);
  return Number(readFileSync(join(dir, 'pid'), 'utf8').trim());
}

async function stopVarnishd(pid: number): Promise<void> {
  process.kill(pid, 'SIGTERM');
  await waitFor(async () => !pidAlive(pid), { timeoutMs: 10_000, intervalMs: 50 });
}

let pid = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'slipway-varnish-cli-'));
  workDir = join(dir, 'w');
  writeFileSync(join(dir, 'boot.vcl'), VCL);
  pid = await startVarnishd();
});

afterAll(async () => {
  if (pid && pidAlive(pid)) await stopVarnishd(pid);
  rmSync(dir, { recursive: true, force: true });
});

describe('varnish CLI connection', () => {
  it('authenticates from the work dir and answers like varnishadm', async () => {
    expect(await cliCommand(workDir, ['status'], 5000)).toEqual({ status: 200, body: expect.stringContaining('running') });
    const admin = new VarnishAdmin(workDir);
    await admin.routeTo(1);
    expect(Object.fromEntries(await admin.adminHealth('slot_*'))).toEqual({ slot_a: 'sick', slot_b: 'healthy' });
    await admin.ban(['/assets/']);
    expect(await admin.adm('ban.list')).toContain('req.url ~ ^/assets/');
    await expect(admin.adm('backend.set_health', 'nope', 'sick')).rejects.toThrow(/106/);
  });

  it('finds a restarted varnishd again, and is unavailable while there is none', async () => {
    await stopVarnishd(pid);
    await expect(cliCommand(workDir, ['status'], 5000)).rejects.toBeInstanceOf(CliUnavailable);
    pid = await startVarnishd();
    const admin = new VarnishAdmin(workDir);
    expect(await waitFor(() => admin.ping(), { timeoutMs: 10_000, intervalMs: 50 })).toBe(true);
    expect((await cliCommand(workDir, ['status'], 5000)).status).toBe(200);
  });
});
