import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsArtifactStore, GroupSync } from '../../src/artifacts/fs-store.ts';

let dir: string;
let store: FsArtifactStore;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'slipway-store-'));
  store = new FsArtifactStore(join(dir, 'data'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sha = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('FsArtifactStore', () => {
  it('stores bytes under their sha256 digest in blobs/sha256/<hex>', async () => {
    const blob = await store.putBytes('hello');
    expect(blob).toEqual({ digest: sha('hello'), size: 5 });
    expect(store.pathOf(blob.digest)).toBe(join(dir, 'data', 'artifacts', 'blobs', 'sha256', sha('hello').slice(7)));
    expect((await store.read(blob.digest)).toString()).toBe('hello');
    expect(await store.has(blob.digest)).toBe(true);
    expect(await store.has(sha('other'))).toBe(false);
  });

  it('dedupes: a second put of the same bytes writes nothing new', async () => {
    const file = join(dir, 'f.bin');
    const bytes = Buffer.alloc(300_000, 7);
    writeFileSync(file, bytes);
    const first = await store.putFile(file);
    const mtime = statSync(store.pathOf(first.digest)).mtimeMs;
    const countBefore = readdirSync(store.blobDir).length;
    await new Promise((r) => setTimeout(r, 20));
    const second = await store.putFile(file);
    const third = await store.putBytes(bytes);
    expect(second).toEqual(first);
    expect(third).toEqual(first);
    expect(first).toEqual({ digest: sha(bytes), size: bytes.length });
    expect(readdirSync(store.blobDir).length).toBe(countBefore);
    expect(statSync(store.pathOf(first.digest)).mtimeMs).toBe(mtime);
    // No temp files left behind.
    expect(readdirSync(join(dir, 'data', 'artifacts', 'tmp'))).toEqual([]);
  });

  it('streams a blob with open()', async () => {
    const blob = await store.putBytes(Buffer.from('streamed'));
    const chunks: Buffer[] = [];
    for await (const c of store.open(blob.digest)) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('streamed');
  });

  it('concurrent puts of the same bytes end in one intact blob', async () => {
    const bytes = Buffer.from('x'.repeat(100_000));
    const results = await Promise.all(Array.from({ length: 8 }, () => store.putBytes(bytes)));
    expect(new Set(results.map((r) => r.digest)).size).toBe(1);
    expect(sha(await store.read(results[0]?.digest ?? ''))).toBe(sha(bytes));
  });

  it('stores a stream under the digest of what it yielded; a failing stream leaves nothing behind', async () => {
    async function* chunks(): AsyncIterable<Buffer> {
      for (let i = 0; i < 2000; i++) yield Buffer.from(`chunk ${i}\n`);
    }
    const whole = Buffer.concat(Array.from({ length: 2000 }, (_, i) => Buffer.from(`chunk ${i}\n`)));
    const blob = await store.putStream(chunks());
    expect(blob).toEqual({ digest: sha(whole), size: whole.length });
    expect((await store.read(blob.digest)).equals(whole)).toBe(true);
    expect(await store.putStream(chunks())).toEqual(blob);

    async function* broken(): AsyncIterable<Buffer> {
      yield Buffer.from('partial');
      throw new Error('source failed');
    }
    const before = readdirSync(store.blobDir).length;
    await expect(store.putStream(broken())).rejects.toThrow(/source failed/);
    expect(readdirSync(store.blobDir).length).toBe(before);
    expect(await store.has(sha('partial'))).toBe(false);
    expect(readdirSync(join(dir, 'data', 'artifacts', 'tmp'))).toEqual([]);
  });

  it('rejects malformed digests', () => {
    expect(() => store.pathOf('sha256:../../etc/passwd')).toThrow(/not a sha256 digest/);
    expect(() => store.pathOf('md5:abc')).toThrow();
  });
});

describe('GroupSync', () => {
  it('covers every request with a sync that started after it; requests made during one share the next', async () => {
    const started: number[] = [];
    const finish: (() => void)[] = [];
    const group = new GroupSync(() => new Promise<void>((resolve) => { started.push(Date.now()); finish.push(resolve); }));
    const done: string[] = [];
    const first = group.sync().then(() => done.push('first'));
    // While the first runs: three requests, one sync after it for all three.
    const late = [1, 2, 3].map((i) => group.sync().then(() => done.push(`late${i}`)));
    expect(started).toHaveLength(1);
    finish[0]!();
    await first;
    await new Promise((r) => setImmediate(r));
    // The first's end does not satisfy the late ones: their own sync has started, not ended.
    expect(done).toEqual(['first']);
    expect(started).toHaveLength(2);
    finish[1]!();
    await Promise.all(late);
    expect(done).toEqual(['first', 'late1', 'late2', 'late3']);
    // Idle again: the next request starts a sync of its own at once.
    const again = group.sync();
    expect(started).toHaveLength(3);
    finish[2]!();
    await again;
  });

  it('a failed sync fails its waiters, and the next request still gets a sync', async () => {
    let calls = 0;
    const group = new GroupSync(async () => { calls++; if (calls === 1) throw new Error('EIO'); });
    const first = group.sync();
    const second = group.sync();
    await expect(first).rejects.toThrow('EIO');
    await expect(second).resolves.toBeUndefined();
    expect(calls).toBe(2);
  });
});
