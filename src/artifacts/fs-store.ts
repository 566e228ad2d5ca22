// The filesystem artifact store: every blob lives once under
// <dataDir>/artifacts/blobs/sha256/<hex> (the same layout as an OCI image layout's blobs/).
// Writes go to a temp file in the same directory tree, are fsynced, then renamed into place, so
// a crash never leaves a half-written blob under its digest; a blob already present is not
// written again (dedupe), which also makes concurrent puts of the same bytes harmless.
// The calls that never wait for the disk (stat, open, rename, a small write into the page
// cache) are made synchronously: microseconds, where each hop through libuv's pool of 4
// threads, busy with fsyncs, costs milliseconds (bench: build-overhead). fsyncs and streamed
// writes (which the kernel may throttle) go through the pool.
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, fsync, mkdirSync, openSync, renameSync, rmSync, statSync, write, writeSync } from 'node:fs';
import { link, mkdir, open, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pidIn, sweepDeadPids } from '../runner/pids.ts';
import type { ArtifactStore, StoredBlob } from './store.ts';

const WRITE_BATCH = 256 * 1024;

/** Up to this size putBytes writes synchronously (a config, a manifest, a report). */
const SMALL_BLOB = 64 * 1024;

const fsyncFd = promisify(fsync);
const writeFd = promisify(write);

/** A temp file's name: its writer's pid, then random (writeTemp). */
const TEMP_PID = pidIn(/^(\d+)\./);

const DIGEST_PATTERN = /^sha256:([0-9a-f]{64})$/;

export function hexOf(digest: string): string {
  const match = DIGEST_PATTERN.exec(digest);
  if (!match?.[1]) throw new Error(`not a sha256 digest: ${digest}`);
  return match[1];
}

/** The sha256 digest and size of a file, read as a stream. */
export async function digestOfFile(path: string): Promise<StoredBlob> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    const buf = chunk as Buffer;
    hash.update(buf);
    size += buf.length;
  }
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

export class FsArtifactStore implements ArtifactStore {
  readonly blobDir: string;
  private readonly tmpDir: string;
  /** Whether the temp files of dead processes were removed (writeTemp, once per store). */
  private swept = false;

  constructor(readonly dataDir: string) {
    this.blobDir = join(dataDir, 'artifacts', 'blobs', 'sha256');
    this.tmpDir = join(dataDir, 'artifacts', 'tmp');
  }

  pathOf(digest: string): string {
    return join(this.blobDir, hexOf(digest));
  }

  async has(digest: string): Promise<boolean> {
    return this.stored(digest);
  }

  private stored(digest: string): boolean {
    return statSync(this.pathOf(digest), { throwIfNoEntry: false })?.isFile() === true;
  }

  async putBytes(bytes: Buffer | string): Promise<StoredBlob> {
    const data = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    if (this.stored(digest)) return { digest, size: data.length };
    await this.place(await this.writeTemp(async (fd) => {
      if (data.length <= SMALL_BLOB) writeAllSync(fd, data);
      else await writeAll(fd, data);
    }), digest);
    return { digest, size: data.length };
  }

  async putFile(path: string): Promise<StoredBlob> {
    // Hash first (streaming, no copy), so a blob already stored costs one read and no write.
    const { digest, size } = await digestOfFile(path);
    if (await this.has(digest)) return { digest, size };
    // The copy is hashed on its way in: a file that changed since the first read is refused
    // (what was stored sits under its own digest, harmless and unreferenced).
    const stored = await this.putStream(createReadStream(path));
    if (stored.digest !== digest) throw new Error(`${path} changed while it was being stored`);
    return stored;
  }

  async putStream(source: AsyncIterable<Uint8Array>): Promise<StoredBlob> {
    const hash = createHash('sha256');
    let size = 0;
    const tmp = await this.writeTemp(async (fd) => {
      // Small chunks (a tar's 512-byte headers) are gathered into one write per WRITE_BATCH.
      let batch: Uint8Array[] = [];
      let batched = 0;
      for await (const chunk of source) {
        hash.update(chunk);
        size += chunk.length;
        batch.push(chunk);
        batched += chunk.length;
        if (batched >= WRITE_BATCH) {
          await writeAll(fd, Buffer.concat(batch));
          batch = [];
          batched = 0;
        }
      }
      if (batch.length > 0) await writeAll(fd, Buffer.concat(batch));
    });
    const digest = `sha256:${hash.digest('hex')}`;
    await this.place(tmp, digest);
    return { digest, size };
  }

  async putKnownFile(path: string, blob: StoredBlob): Promise<StoredBlob> {
    if (await this.has(blob.digest)) return blob;
    await mkdir(this.blobDir, { recursive: true });
    try {
      // Hundreds of MB of base image per data dir would add up fast: share the cache's inode.
      await link(path, this.pathOf(blob.digest));
      return blob;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return blob;
      if (code !== 'EXDEV' && code !== 'EPERM') throw err;
    }
    const stored = await this.putFile(path);
    if (stored.digest !== blob.digest) throw new Error(`${path} is not ${blob.digest} (it is ${stored.digest})`);
    return stored;
  }

  open(digest: string): Readable {
    return createReadStream(this.pathOf(digest));
  }

  read(digest: string): Promise<Buffer> {
    return readFile(this.pathOf(digest));
  }

  /** Writes through `fill` into a new temp file and fsyncs it; returns its path. */
  private async writeTemp(fill: (fd: number) => Promise<void> | void): Promise<string> {
    mkdirSync(this.tmpDir, { recursive: true });
    // A write cut off by a crash leaves its temp file: a blob's worth of disk, never placed.
    if (!this.swept) sweepDeadPids(this.tmpDir, TEMP_PID);
    this.swept = true;
    const tmp = join(this.tmpDir, `${process.pid}.${randomBytes(8).toString('hex')}`);
    const fd = openSync(tmp, 'w', 0o644);
    try {
      await fill(fd);
      await fsyncFd(fd);
    } catch (err) {
      closeSync(fd);
      rmSync(tmp, { force: true });
      throw err;
    }
    closeSync(fd);
    return tmp;
  }

  /** Renames a written temp file to its digest's path (or drops it when that blob exists). */
  private async place(tmp: string, digest: string): Promise<void> {
    if (this.stored(digest)) {
      rmSync(tmp, { force: true });
      return;
    }
    mkdirSync(this.blobDir, { recursive: true });
    renameSync(tmp, this.pathOf(digest));
    await this.blobDirSync.sync();
  }

  /** The blob directory's fsyncs, so that renames survive a power cut (see GroupSync). */
  private readonly blobDirSync = new GroupSync(() => syncDir(this.blobDir));
}

function writeAllSync(fd: number, data: Buffer): void {
  for (let offset = 0; offset < data.length;) offset += writeSync(fd, data, offset);
}

async function writeAll(fd: number, data: Buffer): Promise<void> {
  for (let offset = 0; offset < data.length;) offset += (await writeFd(fd, data, offset)).bytesWritten;
}

/** fsync the directory so the renames into it survive a power cut. */
async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try { await handle.sync(); } finally { await handle.close(); }
  } catch {
    // Some filesystems refuse fsync on directories; the blob itself is already durable.
  }
}

/**
 * A directory's fsyncs, grouped: a rename made before a sync starts is covered by it. Renames
 * that come while one runs share the next one (at most one waits) instead of queueing one
 * fsync each (a build stores a dozen blobs at once).
 */
export class GroupSync {
  private running?: Promise<void>;
  private next?: Promise<void>;

  constructor(private readonly syncNow: () => Promise<void>) {}

  sync(): Promise<void> {
    if (this.next) return this.next;
    if (!this.running) return this.start();
    this.next = this.running.catch(() => undefined).then(() => {
      this.next = undefined;
      return this.start();
    });
    return this.next;
  }

  private start(): Promise<void> {
    const run: Promise<void> = this.syncNow().finally(() => {
      if (this.running === run) this.running = undefined;
    });
    this.running = run;
    return run;
  }
}
