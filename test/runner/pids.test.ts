// What a Slipway process killed mid-write leaves (temp files and dirs named after its pid) is
// removed by the next process to write there: the artifact store's temp files, an environment's
// unpacking dirs. Only a dead process's, only this account's; a zombie is dead.
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsArtifactStore } from '../../src/artifacts/fs-store.ts';
import { buildImage } from '../../src/artifacts/oci.ts';
import { pidAlive, pidIn, sweepDeadPids } from '../../src/runner/pids.ts';
import { defaultUnpack, ImageCache } from '../../src/topology/local/images.ts';

let root: string;
let live: ReturnType<typeof spawn>;
/** A process that ran and was reaped. */
const deadPid = spawnSync('true').pid;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'slipway-pids-'));
  live = spawn('sleep', ['60'], { stdio: 'ignore' });
});
afterAll(() => {
  live.kill();
  rmSync(root, { recursive: true, force: true });
});

/** A file at `path` with some bytes, its dir made. */
function leftover(path: string): string {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, 'half written');
  return path;
}

describe('pidAlive', () => {
  it('is true for a running process, false for a reaped one and for a zombie (which kill(pid, 0) still finds)', async () => {
    expect(pidAlive(process.pid)).toBe(true);
    expect(pidAlive(live.pid ?? 0)).toBe(true);
    expect(pidAlive(deadPid)).toBe(false);
    // `sleep` never waits for the child its shell left it: that child stays a zombie.
    const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 60'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const zombie = Number(await new Promise<string>((resolve) => parent.stdout.once('data', (b: Buffer) => resolve(b.toString()))));
      for (let i = 0; i < 100 && pidAlive(zombie); i++) await new Promise((r) => setTimeout(r, 20));
      expect(() => process.kill(zombie, 0)).not.toThrow();
      expect(pidAlive(zombie)).toBe(false);
    } finally {
      parent.kill();
    }
  });
});

describe('sweepDeadPids', () => {
  it("removes a dead process's entries, dirs whole; a live one's, this process's, a symlink, another account's and other names stay", () => {
    const dir = join(root, 'sweep');
    const dead = leftover(join(dir, `${deadPid}.a`));
    const deadDir = leftover(join(dir, `${deadPid}.b`, 'rootfs', 'file'));
    const kept = [
      leftover(join(dir, `${live.pid}.a`)),
      leftover(join(dir, `${process.pid}.a`)),
      leftover(join(dir, 'notes.txt')),
    ];
    const planted = join(dir, `${deadPid}.link`);
    symlinkSync(join(root, 'elsewhere'), planted);
    kept.push(planted);
    if (process.getuid?.() === 0) {
      const theirs = leftover(join(dir, `${deadPid}.theirs`));
      chownSync(theirs, 65534, 65534);
      kept.push(theirs);
    }
    const removed = sweepDeadPids(dir, pidIn(/^(\d+)\./));
    expect(removed.sort()).toEqual([dead, join(dir, `${deadPid}.b`)].sort());
    expect(existsSync(dead) || existsSync(deadDir)).toBe(false);
    expect(readdirSync(dir).map((n) => join(dir, n)).sort()).toEqual(kept.sort());
  });
});

describe('left by a process killed mid-write', () => {
  it("the artifact store's temp files: removed at the store's first write", async () => {
    const data = join(root, 'data');
    const tmp = join(data, 'artifacts', 'tmp');
    const dead = leftover(join(tmp, `${deadPid}.0123456789abcdef`));
    const writing = leftover(join(tmp, `${live.pid}.0123456789abcdef`));
    const stored = await new FsArtifactStore(data).putBytes('a blob');
    expect(await new FsArtifactStore(data).has(stored.digest)).toBe(true);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(writing)).toBe(true);
  });

  it("an environment's unpacking dirs: removed at its first unpacking", async () => {
    const store = new FsArtifactStore(join(root, 'images-data'));
    const app = leftover(join(root, 'app', 'index.js'));
    const image = await buildImage(store, { dir: join(app, '..') });
    const images = join(root, 'env', 'images');
    const hex = 'ab'.repeat(32);
    const dead = leftover(join(images, `${hex}.tmp-${deadPid}-1700000000000`, 'rootfs', 'bin', 'sh'));
    const unpacking = leftover(join(images, `${hex}.tmp-${live.pid}-1700000000000`, 'rootfs', 'bin', 'sh'));
    const unpacked = await new ImageCache(images, store, defaultUnpack).get(image.digest);
    expect(readdirSync(unpacked.rootfs)).toEqual(['index.js']);
    expect(existsSync(join(dead, '..', '..', '..'))).toBe(false);
    expect(existsSync(unpacking)).toBe(true);
  });
});
