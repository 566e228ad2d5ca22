// Handing writable dirs to the sandbox account (sandbox-prepare.ts own): every dir is walked,
// but a cache dir (SandboxSpec.cachePaths) whose top is the account's already: only runs, as
// that account, wrote into it since. Needs root and the sandbox account (scripts/ensure-deps.sh).
import { chownSync, lstatSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { prepareBuildCache } from '../../src/runner/build-cache.ts';
import { handOverTree, own } from '../../src/runner/sandbox-prepare.ts';
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

  it('a pipeline cache becomes the account\'s where it is made; an existing one is left to own()', async () => {
    const dataDir = join(root, 'data');
    const made = await prepareBuildCache(dataDir, '5');
    expect(statSync(made)).toMatchObject({ uid: account.uid, gid: account.gid });
    const existing = join(dataDir, 'caches', '6');
    mkdirSync(existing);
    expect(await prepareBuildCache(dataDir, '6')).toBe(existing);
    expect(statSync(existing).uid).toBe(0);
  });

  it('walks every other dir, whoever owns its top', async () => {
    const workspace = dirWithRootFile('workspace', account.uid, account.gid);
    await own(host, [workspace.dir], []);
    expect(statSync(workspace.file)).toMatchObject({ uid: account.uid, gid: account.gid });
  });

  it('hands a fresh checkout over in process: every entry, links themselves, never what a link points at', async () => {
    const outside = join(root, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'secret'), 'x');
    const checkout = join(root, 'checkout');
    mkdirSync(join(checkout, '.git', 'objects'), { recursive: true });
    mkdirSync(join(checkout, 'src', 'deep'), { recursive: true });
    writeFileSync(join(checkout, 'src', 'deep', 'a.js'), 'a');
    writeFileSync(join(checkout, '.git', 'HEAD'), 'x');
    symlinkSync(outside, join(checkout, 'link-to-dir'));
    symlinkSync(join(outside, 'secret'), join(checkout, 'src', 'link-to-file'));
    await handOverTree(host, checkout);
    for (const rel of ['', '.git', '.git/objects', '.git/HEAD', 'src', 'src/deep', 'src/deep/a.js', 'link-to-dir', 'src/link-to-file']) {
      expect(lstatSync(join(checkout, rel)), rel).toMatchObject({ uid: account.uid, gid: account.gid });
    }
    expect(statSync(outside).uid).toBe(0);
    expect(statSync(join(outside, 'secret')).uid).toBe(0);
  });
});
