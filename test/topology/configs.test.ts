// The generated configs are checked by the real tools: `varnishd -C` compiles the VCL and
// `haproxy -c` validates the load balancer config.
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseDispatcherPackage } from '../../src/domain/contract.ts';
import { haproxyConfig, lbStateOf, parseShowStat } from '../../src/topology/local/haproxy.ts';
import { generateVcl, isCacheable } from '../../src/topology/local/varnish.ts';
import { backoffMs } from '../../src/topology/local/supervisor.ts';

const run = promisify(execFile);
const pkg = parseDispatcherPackage({
  cache: [{ match: '^/assets/', ttlSeconds: 60 }, { match: '^/nocache', ttlSeconds: 0 }],
  deny: ['^/admin', '\\.env$'], methods: ['GET', 'HEAD'], warm: ['/assets/a.css'],
});

describe('generated configs', () => {
  it('VCL compiles and carries the package rules', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slw-vcl-'));
    try {
      const vcl = generateVcl({ dispatcherName: 'dispatcher-1', slotPorts: [1234, 1235], healthPath: '/health', pkg });
      const file = join(dir, 'a.vcl');
      writeFileSync(file, vcl);
      const { stdout, stderr } = await run('varnishd', ['-j', 'none', '-C', '-f', file, '-n', join(dir, 'w')], { maxBuffer: 64 * 1024 * 1024 });
      expect(`${stdout}${stderr}`).toContain('VGC_function_vcl_recv');
      expect(vcl).toContain('synth(405');
      expect(vcl).toContain('{"^/admin"}');
      expect(vcl).toContain('set beresp.ttl = 60s');
      expect(vcl).toContain('return (retry)');
      expect(vcl).toContain('X-Dispatcher = {"dispatcher-1"}');
      // Two probed slot backends behind one director: deploys switch between them without compiling.
      expect(vcl).toMatch(/backend slot_a \{[^}]*\.port = "1234";[^}]*\.probe = publish_health;/);
      expect(vcl).toMatch(/backend slot_b \{[^}]*\.port = "1235";[^}]*\.probe = publish_health;/);
      expect(vcl).toContain('set req.backend_hint = publish.backend();');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a pattern that would break out of a VCL string', () => {
    expect(() => generateVcl({ dispatcherName: 'd', slotPorts: [1, 2], healthPath: '/h', pkg: { ...pkg, deny: ['a"}b'] } })).toThrow();
  });

  it('knows which warm paths can become cache hits', () => {
    expect(isCacheable(pkg, '/assets/a.css')).toBe(true);
    expect(isCacheable(pkg, '/nocache/x')).toBe(false);
    expect(isCacheable(pkg, '/page')).toBe(false);
  });

  it('HAProxy accepts the load balancer config', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slw-hap-'));
    try {
      const file = join(dir, 'haproxy.cfg');
      writeFileSync(file, haproxyConfig({ port: 8080, socket: join(dir, 's.sock'), healthPath: '/health',
        servers: [{ name: 'd1', port: 9001 }, { name: 'd2', port: 9002 }] }));
      await run('haproxy', ['-c', '-f', file]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('parses show stat by column name', () => {
    const csv = '# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,status\nbe,d1,0,0,3,5,,42,0,DRAIN\nbe,BACKEND,0,0,3,5,,42,0,UP\n';
    expect(parseShowStat(csv)[0]).toEqual({ proxy: 'be', server: 'd1', scur: 3, stot: 42, status: 'DRAIN' });
    expect(lbStateOf('DRAIN')).toBe('DRAIN');
    expect(lbStateOf('MAINT (resolution)')).toBe('MAINT');
    expect(lbStateOf('UP')).toBe('READY');
    expect(lbStateOf('DOWN')).toBe('READY');
  });

  it('backs off restarts up to 10 s', () => {
    expect([0, 1, 2, 10].map(backoffMs)).toEqual([250, 500, 1000, 10_000]);
  });
});
