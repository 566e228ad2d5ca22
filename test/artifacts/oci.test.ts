import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack as tarPack } from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsArtifactStore } from '../../src/artifacts/fs-store.ts';
import {
  buildImage, buildSnapshotImage, exportOciLayout, imageBlobs, MEDIA_TYPES, readManifest, snapshotDirectory, unpackImage,
} from '../../src/artifacts/oci.ts';
import { safeEntrySegments } from '../../src/artifacts/oci-layout.ts';

let root: string;
let store: FsArtifactStore;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'slipway-oci-'));
  store = new FsArtifactStore(join(root, 'data'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function makeTree(dir: string): void {
  mkdirSync(join(dir, 'src', 'lib'), { recursive: true });
  mkdirSync(join(dir, '.git'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{"name":"x","version":"1.2.3"}');
  writeFileSync(join(dir, 'src', 'server.js'), 'console.log("hi")\n');
  writeFileSync(join(dir, 'src', 'lib', 'b.js'), 'export const b = 1;\n');
  writeFileSync(join(dir, 'run.sh'), '#!/bin/sh\necho run\n');
  chmodSync(join(dir, 'run.sh'), 0o700);
  writeFileSync(join(dir, '.git', 'HEAD'), 'ref: refs/heads/main\n');
  symlinkSync('src/server.js', join(dir, 'main.js'));
  // Over the size that is read in one go: this one is streamed into the layer.
  writeFileSync(join(dir, 'big.bin'), Buffer.alloc(300_000, 'x'));
}

/** A tar made by hand (for entries buildImage would never write). */
async function handMadeTar(fill: (pack: ReturnType<typeof tarPack>) => void): Promise<Buffer> {
  const pack = tarPack();
  fill(pack);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** An image manifest whose single layer is `tar`. */
async function imageOfTar(tar: Buffer): Promise<string> {
  const layer = await store.putBytes(tar);
  const config = await store.putBytes(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [layer.digest] } }));
  const manifest = await store.putBytes(JSON.stringify({
    schemaVersion: 2, mediaType: MEDIA_TYPES.manifest,
    config: { mediaType: MEDIA_TYPES.config, ...config },
    layers: [{ mediaType: MEDIA_TYPES.layer, ...layer }],
  }));
  return manifest.digest;
}

describe('OCI images', () => {
  it('the same directory content gives the same digest, whatever the mtimes and owners', async () => {
    const a = join(root, 'a');
    const b = join(root, 'b');
    makeTree(a);
    makeTree(b);
    utimesSync(join(b, 'src', 'server.js'), new Date('2001-01-01'), new Date('2001-01-01'));
    const config = { cmd: ['/bin/sh', '-c', 'node src/server.js'], labels: { z: '1', a: '2' } };
    const imageA = await buildImage(store, { dir: a, config });
    const imageB = await buildImage(store, { dir: b, config: { ...config, labels: { a: '2', z: '1' } } });
    expect(imageA.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(imageB.digest).toBe(imageA.digest);

    writeFileSync(join(b, 'src', 'server.js'), 'console.log("changed")\n');
    const imageC = await buildImage(store, { dir: b, config });
    expect(imageC.digest).not.toBe(imageA.digest);
  });

  it('a snapshot gives the image of the directory as it was read, whatever changes in it since', async () => {
    const dir = join(root, 's');
    makeTree(dir);
    const input = { dir, exclude: (rel: string) => rel === '.git' };
    const expected = await buildImage(store, input);
    // Files beyond the limit (big.bin alone is 300 kB) are not read into memory: no snapshot.
    expect(await snapshotDirectory(input, 200_000)).toBeUndefined();
    const snapshot = await snapshotDirectory(input, 1024 ** 2);
    if (!snapshot) throw new Error('no snapshot');
    writeFileSync(join(dir, 'src', 'server.js'), 'console.log("changed")\n');
    rmSync(join(dir, 'big.bin'));
    symlinkSync('/etc/passwd', join(dir, 'big.bin'));
    expect((await buildSnapshotImage(store, snapshot)).digest).toBe(expected.digest);
    expect((await buildImage(store, input)).digest).not.toBe(expected.digest);
  });

  it('writes a valid manifest, config and uncompressed layer, listed by imageBlobs', async () => {
    const dir = join(root, 'm');
    makeTree(dir);
    const image = await buildImage(store, { dir, config: { cmd: ['true'], env: ['A=1'], workingDir: '/' } });
    const manifest = await readManifest(store, image.digest);
    expect(manifest.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(manifest.layers[0]?.mediaType).toBe('application/vnd.oci.image.layer.v1.tar');
    const config = JSON.parse((await store.read(manifest.config.digest)).toString()) as Record<string, unknown>;
    expect(config).not.toHaveProperty('created');
    expect(config).toMatchObject({ os: 'linux', config: { Cmd: ['true'], Env: ['A=1'], WorkingDir: '/' }, rootfs: { diff_ids: [manifest.layers[0]?.digest] } });
    expect(await imageBlobs(store, image.digest)).toEqual([image.digest, manifest.config.digest, manifest.layers[0]?.digest]);
    const listing = spawnSync('tar', ['-tvf', store.pathOf(manifest.layers[0]?.digest ?? '')], { encoding: 'utf8' }).stdout;
    expect(listing).toContain('-rwxr-xr-x 0/0');
    expect(listing).toContain('1970-01-01');
    expect(listing).toMatch(/main\.js -> src\/server\.js/);
  });

  it('unpacks what it packed (modes, symlinks), leaving out excluded paths', async () => {
    const dir = join(root, 'u');
    makeTree(dir);
    const image = await buildImage(store, { dir, exclude: (rel) => rel === '.git', config: { cmd: ['x'] } });
    const out = join(root, 'u-out');
    const { config } = await unpackImage(store, image.digest, out);
    expect(config.config.Cmd).toEqual(['x']);
    expect(readFileSync(join(out, 'src', 'lib', 'b.js'), 'utf8')).toBe('export const b = 1;\n');
    expect(lstatSync(join(out, 'run.sh')).mode & 0o777).toBe(0o755);
    expect(lstatSync(join(out, 'package.json')).mode & 0o777).toBe(0o644);
    expect(readlinkSync(join(out, 'main.js'))).toBe('src/server.js');
    expect(readFileSync(join(out, 'big.bin')).equals(Buffer.alloc(300_000, 'x'))).toBe(true);
    expect(existsSync(join(out, '.git'))).toBe(false);
    // Re-packing the unpacked tree gives the same image.
    expect((await buildImage(store, { dir: out, config: { cmd: ['x'] } })).digest).toBe(image.digest);
  });

  it('unpacks with the image\'s modes whatever the process umask (the sandboxed user reads them)', async () => {
    const dir = join(root, 'umask');
    makeTree(dir);
    const image = await buildImage(store, { dir, config: { cmd: ['x'] } });
    const out = join(root, 'umask-out');
    const previous = process.umask(0o077); // as `slipway serve` runs
    try {
      await unpackImage(store, image.digest, out);
    } finally {
      process.umask(previous);
    }
    expect(lstatSync(out).mode & 0o777).toBe(0o755);
    expect(lstatSync(join(out, 'src', 'lib')).mode & 0o777).toBe(0o755);
    expect(lstatSync(join(out, 'run.sh')).mode & 0o777).toBe(0o755);
    expect(lstatSync(join(out, 'package.json')).mode & 0o777).toBe(0o644);
  });

  it('rejects entries with .. or absolute paths', async () => {
    for (const name of ['../escape.txt', 'a/../../escape.txt', '/etc/escape.txt']) {
      const digest = await imageOfTar(await handMadeTar((pack) => pack.entry({ name }, 'evil')));
      const out = join(root, `bad-${Math.random().toString(16).slice(2)}`);
      await expect(unpackImage(store, digest, out)).rejects.toThrow(/refusing image entry/);
    }
    expect(existsSync(join(root, 'escape.txt'))).toBe(false);
    expect(() => safeEntrySegments('ok/./file')).not.toThrow();
  });

  it('refuses to write through a symlink made by an earlier entry', async () => {
    const digest = await imageOfTar(await handMadeTar((pack) => {
      pack.entry({ name: 'link', type: 'symlink', linkname: root });
      pack.entry({ name: 'link/pwned.txt' }, 'evil');
    }));
    await expect(unpackImage(store, digest, join(root, 'sym-out'))).rejects.toThrow(/symlink/);
    expect(existsSync(join(root, 'pwned.txt'))).toBe(false);
  });

  it('exports an OCI image layout', async () => {
    const dir = join(root, 'e');
    makeTree(dir);
    const image = await buildImage(store, { dir });
    const out = join(root, 'layout');
    await exportOciLayout(store, image.digest, out, 'v1');
    expect(JSON.parse(readFileSync(join(out, 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    const index = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')) as { manifests: { digest: string; annotations: Record<string, string> }[] };
    expect(index.manifests[0]?.digest).toBe(image.digest);
    expect(index.manifests[0]?.annotations['org.opencontainers.image.ref.name']).toBe('v1');
    for (const digest of await imageBlobs(store, image.digest)) {
      expect(existsSync(join(out, 'blobs', 'sha256', digest.slice(7)))).toBe(true);
    }
    const skopeo = spawnSync('skopeo', ['inspect', `oci:${out}:v1`], { encoding: 'utf8' });
    if (skopeo.error === undefined) expect(skopeo.status, skopeo.stderr).toBe(0);
  });
});
