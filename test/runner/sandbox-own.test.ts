// Handing writable dirs to the sandbox account (sandbox-prepare.ts own): every dir is walked,
// but a cache dir (SandboxSpec.cachePaths) whose top is the account's already: only runs, as
// that account, wrote into it since. Needs root and the sandbox account (scripts/ensure-deps.sh).
import { chownSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { own } from '../../src/runner/sandbox-prepare.ts';
import { sandboxHost } from '../../src/runner/sandbox-host.ts';

const host = sandboxHost();
const root = mkdtempSync(join(tmpdir(), 'slipway-own-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A dir holding one file of root's; the dir itself given to `uid`:`gid`. */
function dirWithRootFile(name: string, uid: number, gid: number): { dir: string; file: string } {
  const dir = join(root, name);
  mkdirSync(dir);
  const file = join(dir, 'left-by-root');
  writeFileSync(file, 'x');
  chownSync(dir, uid, gid);
  return { dir, file };
}

describe.runIf(host.runAs !== undefined)('own', () => {
  const account = host.runAs!;

  it('walks a cache dir only until its top is the account\'s', async () => {
    const handed = dirWithRootFile('cache-handed', account.uid, account.gid);
    const fresh = dirWithRootFile('cache-fresh', 0, 0);
    await own(host, [handed.dir, fresh.dir], [handed.dir, fresh.dir]);
    expect(statSync(handed.file).uid).toBe(0); // not walked
    expect(statSync(fresh.file).uid).toBe(account.uid);
    expect(statSync(fresh.dir).uid).toBe(account.uid);
  });

  it('walks every other dir, whoever owns its top', async () => {
    const workspace = dirWithRootFile('workspace', account.uid, account.gid);
    await own(host, [workspace.dir], []);
    expect(statSync(workspace.file)).toMatchObject({ uid: account.uid, gid: account.gid });
  });
});
