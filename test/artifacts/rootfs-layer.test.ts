import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pack as tarPack } from 'tar-stream';
import { afterAll, describe, expect, it } from 'vitest';
import { digestOfFile } from '../../src/artifacts/fs-store.ts';
import { withFileLock } from '../../src/artifacts/file-lock.ts';
import { writeRootfsLayer } from '../../src/artifacts/rootfs-layer.ts';
import { tarListing } from '../support/tar-listing.ts';

const root = mkdtempSync(join(tmpdir(), 'slipway-rootfs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A root filesystem tar as a build would write it, with times and names that vary. */
function rootfsTar(when: Date, uname: string): Readable {
  const pack = tarPack();
  const common = { mtime: when, uname, gname: uname };
  pack.entry({ ...common, name: './', type: 'directory', mode: 0o755 });
  pack.entry({ ...common, name: './dev/', type: 'directory', mode: 0o755 });
  pack.entry({ ...common, name: './dev/null', type: 'character-device', mode: 0o666, devmajor: 1, devminor: 3 });
  pack.entry({ ...common, name: './etc/', type: 'directory', mode: 0o755 });
  pack.entry({ ...common, name: './etc/apt/', type: 'directory', mode: 0o755 });
  pack.entry({ ...common, name: './etc/apt/sources.list', type: 'file', mode: 0o644 }, 'deb x');
  pack.entry({ ...common, name: './etc/passwd', type: 'file', mode: 0o644 }, 'root:x:0:0::/:/bin/sh\n');
  pack.entry({ ...common, name: './tmp/', type: 'directory', mode: 0o1777 });
  pack.entry({ ...common, name: './usr/bin/su', type: 'file', mode: 0o4755 }, 'su');
  pack.entry({ ...common, name: './usr/bin/su2', type: 'link', linkname: './usr/bin/su', mode: 0o4755 });
  pack.entry({ ...common, name: './var/lib/varnish/', type: 'directory', mode: 0o750, uid: 101, gid: 102 });
  pack.entry({ ...common, name: './bin', type: 'symlink', linkname: 'usr/bin', mode: 0o777 });
  pack.finalize();
  return Readable.from(pack);
}

describe('root filesystem layers', () => {
  it('keep owners and modes, drop times, names, devices and excluded paths; same content, same bytes', async () => {
    const a = join(root, 'a.tar');
    const b = join(root, 'b.tar');
    const exclude = (p: string): boolean => p === 'etc/apt' || p.startsWith('etc/apt/') || p.startsWith('dev/');
    await writeRootfsLayer(rootfsTar(new Date('2026-01-02T03:04:05Z'), 'root'), a, exclude);
    await writeRootfsLayer(rootfsTar(new Date('2025-06-07T08:09:10Z'), 'daemon'), b, exclude);
    expect((await digestOfFile(a)).digest).toBe((await digestOfFile(b)).digest);
    const listing = await tarListing(a);
    expect([...listing.keys()]).toEqual(['dev/', 'etc/', 'etc/passwd', 'tmp/', 'usr/bin/su', 'usr/bin/su2', 'var/lib/varnish/', 'bin']);
    expect(listing.get('tmp/')?.mode).toBe(0o1777);
    expect(listing.get('usr/bin/su')?.mode).toBe(0o4755);
    expect(listing.get('usr/bin/su2')).toMatchObject({ type: 'link', linkname: 'usr/bin/su' });
    expect(listing.get('var/lib/varnish/')).toMatchObject({ uid: 101, gid: 102, mode: 0o750 });
    expect(listing.get('bin')).toMatchObject({ type: 'symlink', linkname: 'usr/bin' });
    expect([...listing.values()].every((e) => e.mtime === 0)).toBe(true);
  });
});

describe('file locks', () => {
  it('let one holder in at a time, and take over the lock of a dead owner', async () => {
    const path = join(root, 'x.lock');
    let inside = 0;
    let most = 0;
    const hold = (): Promise<void> => withFileLock(path, async () => {
      inside++;
      most = Math.max(most, inside);
      await new Promise((r) => setTimeout(r, 50));
      inside--;
    });
    await Promise.all([hold(), hold(), hold()]);
    expect(most).toBe(1);
    // A lock left by a process that is gone (pid 2^22+1 is beyond pid_max's default range).
    writeFileSync(path, '4194305\n');
    await withFileLock(path, async () => undefined);
    expect(existsSync(path)).toBe(false);
  });
});
