// Reading images back out of the store: unpacking an image's layers into a directory (safely:
// no entry may land outside the destination, not even through a symlink an earlier entry made)
// and exporting an image as an OCI image layout directory that skopeo/podman/umoci can read.
import { createWriteStream, type Stats } from 'node:fs';
import { chmod, copyFile, link, lstat, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { extract as tarExtract, type Header } from 'tar-stream';
import { hexOf } from './fs-store.ts';
import { imageBlobs, isBaseLayer, MEDIA_TYPES, readImageConfig, readManifest, type OciImageConfig } from './oci-format.ts';
import type { ArtifactStore } from './store.ts';

export class UnsafeEntryError extends Error {
  constructor(readonly entry: string, why: string) {
    super(`refusing image entry "${entry}": ${why}`);
    this.name = 'UnsafeEntryError';
  }
}

/** The entry's path segments, or an error for absolute paths and `..`. */
export function safeEntrySegments(name: string): string[] {
  if (name.startsWith('/') || /^[A-Za-z]:[\\/]/.test(name)) throw new UnsafeEntryError(name, 'absolute path');
  const segments = name.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) throw new UnsafeEntryError(name, 'path with ".."');
  if (segments.some((s) => s.includes('\\') || s.includes('\0'))) throw new UnsafeEntryError(name, 'invalid characters');
  return segments;
}

async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try { return await lstat(path); } catch { return undefined; }
}

/** Refuses to go through a symlink on the way to an entry (a link made by an earlier entry). */
async function assertNoSymlinkParent(destDir: string, segments: string[], name: string): Promise<void> {
  let path = destDir;
  for (const segment of segments.slice(0, -1)) {
    path = join(path, segment);
    const info = await lstatOrUndefined(path);
    if (info?.isSymbolicLink()) throw new UnsafeEntryError(name, `goes through the symlink ${segment}`);
  }
}

async function writeEntry(destDir: string, header: Header, body: AsyncIterable<unknown>): Promise<void> {
  const segments = safeEntrySegments(header.name);
  if (segments.length === 0) return; // the root directory itself
  await assertNoSymlinkParent(destDir, segments, header.name);
  const target = join(destDir, ...segments);
  const existing = await lstatOrUndefined(target);
  switch (header.type) {
    case 'directory':
      if (existing && !existing.isDirectory()) await rm(target, { force: true });
      await mkdir(target, { recursive: true });
      // Modes are the image's, never the process umask's: the sandboxed user must read them.
      await chmod(target, 0o755);
      return;
    case 'file':
    case 'contiguous-file':
      await mkdir(dirname(target), { recursive: true });
      if (existing) await rm(target, { recursive: true, force: true });
      await pipeline(body as AsyncIterable<Buffer>, createWriteStream(target));
      await chmod(target, (header.mode ?? 0o644) & 0o777);
      return;
    case 'symlink':
      await mkdir(dirname(target), { recursive: true });
      if (existing) await rm(target, { recursive: true, force: true });
      await symlink(header.linkname ?? '', target);
      return;
    default:
      throw new UnsafeEntryError(header.name, `unsupported entry type ${header.type}`);
  }
}

async function extractLayer(store: ArtifactStore, digest: string, destDir: string): Promise<void> {
  const extractor = tarExtract();
  const reading = pipeline(store.open(digest), extractor);
  try {
    for await (const entry of extractor) {
      await writeEntry(destDir, entry.header, entry);
      entry.resume(); // drain what writeEntry did not read (directories, links)
    }
  } catch (err) {
    extractor.destroy(err as Error);
    await reading.catch(() => undefined);
    throw err;
  }
  await reading;
}

/**
 * Extracts the image's own layers, in order, into destDir (created if missing). Base layers (a
 * whole Debian root filesystem, see base-image.ts) are left out unless `withBase`: Slipway's
 * own readers only want what the build put in, never hundreds of MB per deploy.
 */
export async function unpackImage(store: ArtifactStore, manifestDigest: string, destDir: string, opts: { withBase?: boolean } = {}): Promise<{ config: OciImageConfig }> {
  const manifest = await readManifest(store, manifestDigest);
  await mkdir(destDir, { recursive: true });
  await chmod(destDir, 0o755);
  for (const layer of manifest.layers) {
    if (!opts.withBase && isBaseLayer(layer)) continue;
    if (layer.mediaType !== MEDIA_TYPES.layer) throw new Error(`unsupported layer media type ${layer.mediaType}`);
    await extractLayer(store, layer.digest, destDir);
  }
  return { config: await readImageConfig(store, manifestDigest) };
}

/** Writes an OCI image layout (oci-layout, index.json, blobs/sha256/...) holding one image. */
export async function exportOciLayout(store: ArtifactStore, manifestDigest: string, outDir: string, refName: string): Promise<void> {
  const blobDir = join(outDir, 'blobs', 'sha256');
  await mkdir(blobDir, { recursive: true });
  for (const digest of await imageBlobs(store, manifestDigest)) {
    // Blobs never change: a hard link spares copying a base image's hundreds of MB.
    const target = join(blobDir, hexOf(digest));
    await link(store.pathOf(digest), target).catch(() => copyFile(store.pathOf(digest), target));
  }
  const manifestSize = (await store.read(manifestDigest)).length;
  await writeFile(join(outDir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(join(outDir, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.index,
    manifests: [{
      mediaType: MEDIA_TYPES.manifest,
      digest: manifestDigest,
      size: manifestSize,
      annotations: { 'org.opencontainers.image.ref.name': refName },
    }],
  }));
}
