// A repository whose build tries to escape, through the real build step (real git, bwrap,
// pasta, cgroups): every attempt is contained, the build fails cleanly with its exit code, and
// nothing on the host is read or touched.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildHandler } from '../../src/steps/build.ts';
import { makeStepContext } from '../support/step-context.ts';

const SECRET = `signing-key-${process.pid}`;
let root: string;
let dataDir: string;
let outside: string;
let server: Server;
let port: number;
let accepted = 0;
const git = (cwd: string, ...args: string[]): string =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd, encoding: 'utf8' }).trim();

function escapeScript(): string {
  return [
    `umount -l ${dataDir} && echo ESCAPED-umount`,
    'mount -o remount,bind,rw / && echo ESCAPED-remount',
    `cat ${dataDir}/signing.key`,
    `echo pwned > ${outside} && echo ESCAPED-write`,
    'cat /etc/shadow && echo ESCAPED-shadow',
    'ls /root && echo ESCAPED-root',
    '[ "$(id -u)" = 0 ] && echo ESCAPED-uid0',
    'grep -q "^CapEff:\\s*0*$" /proc/self/status || echo ESCAPED-caps',
    'unshare -Ur true && echo ESCAPED-userns',
    `timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/${port}' && echo ESCAPED-loopback`,
    '(sleep 3600 &)',
    'echo attempts-done',
    'exit 9',
  ].join('\n');
}

beforeAll(async () => {
  server = createServer((s) => { accepted++; s.end(); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  root = mkdtempSync(join(tmpdir(), 'slipway-build-escape-'));
  dataDir = mkdtempSync('/var/tmp/slipway-build-escape-data-');
  writeFileSync(join(dataDir, 'signing.key'), SECRET);
  outside = `/var/tmp/slipway-build-escape-${process.pid}`;
  git(root, 'init', '--quiet', '--bare', '-b', 'main', 'repo.git');
  const work = join(root, 'work');
  git(root, 'init', '--quiet', '-b', 'main', 'work');
  writeFileSync(join(work, 'escape.sh'), escapeScript());
  writeFileSync(join(work, 'slipway.yaml'), 'build:\n  command: sh escape.sh\n  timeoutMinutes: 2\n');
  git(work, 'add', '-A');
  git(work, 'commit', '--quiet', '-m', 'escape');
  git(work, 'push', '--quiet', `file://${join(root, 'repo.git')}`, 'HEAD:main');
});
afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(outside, { force: true });
  await new Promise<void>((r) => server.close(() => r()));
});

it('a build that tries to escape fails cleanly and touches nothing on the host', async () => {
  const ctx = makeStepContext({ dataDir });
  ctx.repository.url = `file://${join(root, 'repo.git')}`;
  const result = await buildHandler.run(ctx);
  const log = ctx.log.text();
  expect(log).toContain('attempts-done');
  expect(log).not.toContain('ESCAPED');
  expect(log).not.toContain(SECRET);
  expect(result).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/exit code 9/) });
  expect(existsSync(outside)).toBe(false);
  expect(accepted).toBe(0);
});
