// Reproducible OCI images in the content-addressed store (the store's blobs/sha256 is an OCI
// blob store). An image is one uncompressed tar layer of a directory, written so the same
// directory content always gives the same bytes: entries sorted, mtime 0, uid/gid 0, no user
// names, modes normalised to 0755/0644; a config without a creation time; and a manifest. The
// image's identity is the manifest digest.
import { constants } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { pack as tarPack, type Pack } from 'tar-stream';
import type { ArtifactStore } from './store.ts';
import {
  isBaseLayer, MEDIA_TYPES, type BuildImageInput, type Descriptor, type ImageRuntimeConfig, type OciImageConfig,
  type OciManifest,
} from './oci-format.ts';

export {
  BASE_LAYER_ROLE, LAYER_ROLE_ANNOTATION, MEDIA_TYPES, imageBlobs, isBaseLayer, readImageConfig, readManifest,
  type BuildImageInput, type Descriptor, type ImageRuntimeConfig, type OciImageConfig, type OciManifest,
} from './oci-format.ts';
export { exportOciLayout, unpackImage } from './oci-layout.ts';

/** The normalised mode of a file: executable for anyone if any execute bit is set. */
export function normalisedMode(mode: number, isDirectory: boolean): number {
  return isDirectory || (mode & 0o111) !== 0 ? 0o755 : 0o644;
}

function sortedByName(names: string[]): string[] {
  return [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function writeEntry(pack: Pack, header: Parameters<Pack['entry']>[0], body?: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry(header, body ?? '', (err) => (err ? reject(err) : resolve()));
  });
}

/** Files up to this size are read in one go (most of a site's files); bigger ones are streamed. */
const SMALL_FILE = 256 * 1024;

/** How many small files of a directory are read ahead of their turn (the tar is written in order). */
const READ_AHEAD = 16;

/** A small file's content. Never follows a symlink on the host: one swapped in after the lstat is refused (ELOOP). */
async function readSmallFile(path: string, size: number): Promise<Buffer> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  let body: Buffer;
  try { body = await handle.readFile(); } finally { await handle.close(); }
  // The same check tar-stream makes of a streamed entry: the size in the header is the truth.
  if (body.length !== size) throw new Error(`${path} changed while it was being packed`);
  return body;
}

async function writeFileEntry(pack: Pack, name: string, path: string, size: number, mode: number, body?: Promise<Buffer>): Promise<void> {
  const header = { name, size, mode, mtime: new Date(0), uid: 0, gid: 0, type: 'file' as const };
  if (size <= SMALL_FILE) return writeEntry(pack, header, await (body ?? readSmallFile(path, size)));
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  let sink: ReturnType<Pack['entry']> | undefined;
  const entryDone = new Promise<void>((resolve, reject) => {
    sink = pack.entry(header, (err) => (err ? reject(err) : resolve()));
  });
  if (!sink) { await handle.close(); throw new Error('tar entry not created'); }
  await pipeline(handle.createReadStream(), sink);
  await entryDone;
}

const FIXED = { mtime: new Date(0), uid: 0, gid: 0 };

/** `at` ('app/x') as its directory entries, parents first: the layer holds the path itself. */
async function packParents(pack: Pack, at: string): Promise<void> {
  const segments = at.split('/').filter(Boolean);
  for (let i = 1; i <= segments.length; i++) {
    await writeEntry(pack, { ...FIXED, name: `${segments.slice(0, i).join('/')}/`, mode: 0o755, type: 'directory' });
  }
}

async function packDirectory(pack: Pack, root: string, rel: string, input: BuildImageInput): Promise<void> {
  const dir = rel ? join(root, rel) : root;
  const prefix = input.at ? `${input.at.replace(/^\/+|\/+$/g, '')}/` : '';
  const names = sortedByName(await readdir(dir));
  // One round of lstat for the whole directory (in parallel), then the entries in order.
  const infos = await Promise.all(names.map((name) => lstat(join(dir, name))));
  const entries = names.flatMap((name, i) => {
    const relPath = rel ? `${rel}/${name}` : name;
    const info = infos[i];
    return info && !input.exclude?.(relPath, info.isDirectory()) ? [{ relPath, path: join(root, relPath), info }] : [];
  });
  // Small files are read a few ahead of their turn: the reads wait on the disk together, not one by one.
  const reads = new Map<number, Promise<Buffer>>();
  let next = 0;
  const readAhead = (upTo: number): void => {
    for (; next < Math.min(upTo, entries.length); next++) {
      const j = next;
      const entry = entries[j];
      if (!entry?.info.isFile() || entry.info.size > SMALL_FILE) continue;
      const read = readSmallFile(entry.path, entry.info.size);
      read.catch(() => undefined); // awaited in its turn; one left behind by an earlier failure is moot
      reads.set(j, read);
    }
  };
  for (const [i, { relPath, path, info }] of entries.entries()) {
    readAhead(i + READ_AHEAD);
    const entryName = `${prefix}${relPath}`;
    if (info.isDirectory()) {
      await writeEntry(pack, { ...FIXED, name: `${entryName}/`, mode: 0o755, type: 'directory' });
      await packDirectory(pack, root, relPath, input);
    } else if (info.isSymbolicLink()) {
      await writeEntry(pack, { ...FIXED, name: entryName, mode: 0o777, type: 'symlink', linkname: await readlink(path) });
    } else if (info.isFile()) {
      await writeFileEntry(pack, entryName, path, info.size, normalisedMode(info.mode, false), reads.get(i));
      reads.delete(i);
    }
    // Sockets, fifos and devices have no place in an image: left out.
  }
}

/**
 * Writes the reproducible tar of `dir` into the store and returns its descriptor: streamed
 * straight into the store, hashed on the way (no temp tar, no second read).
 */
export async function putDirectoryLayer(store: ArtifactStore, input: BuildImageInput): Promise<Descriptor> {
  const pack = tarPack();
  // tar-stream's pack is a streamx Readable of Buffers (typed as yielding unknown).
  const stored = store.putStream(pack as AsyncIterable<Buffer>);
  try {
    if (input.at) await packParents(pack, input.at);
    await packDirectory(pack, input.dir, '', input);
    pack.finalize();
  } catch (err) {
    pack.destroy(err as Error);
    await stored.catch(() => undefined);
    throw err;
  }
  return { mediaType: MEDIA_TYPES.layer, ...await stored };
}

function sortedRecord<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(sortedByName(Object.keys(record)).map((k) => [k, record[k] as T]));
}

/** The OCI config object of a runtime configuration (keys in a fixed order: stable digests). */
export function runtimeConfig(config: ImageRuntimeConfig | undefined): OciImageConfig['config'] {
  const out: OciImageConfig['config'] = {};
  if (config?.user) out.User = config.user;
  if (config?.exposedPorts?.length) {
    out.ExposedPorts = sortedRecord(Object.fromEntries(config.exposedPorts.map((p) => [`${p}/tcp`, {}])));
  }
  if (config?.env) out.Env = config.env;
  if (config?.entrypoint) out.Entrypoint = config.entrypoint;
  if (config?.cmd) out.Cmd = config.cmd;
  if (config?.workingDir) out.WorkingDir = config.workingDir;
  if (config?.labels) out.Labels = sortedRecord(config.labels);
  return out;
}

/** The OCI name of this machine's architecture (images are built for the machine they run on). */
export function imageArchitecture(): string {
  return process.arch === 'x64' ? 'amd64' : process.arch;
}

/** Writes the config and manifest of an image made of `layers` (uncompressed: diff_id = digest). */
export async function putImage(store: ArtifactStore, layers: Descriptor[], config: ImageRuntimeConfig | undefined): Promise<{ digest: string; size: number }> {
  const imageConfig: OciImageConfig = {
    architecture: imageArchitecture(),
    os: 'linux',
    config: runtimeConfig(config),
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
    // No `created` times: the same layers give the same config.
    history: layers.map((l) => ({ created_by: isBaseLayer(l) ? 'slipway: base image from Debian packages' : 'slipway: layer' })),
  };
  const configBlob = await store.putBytes(JSON.stringify(imageConfig));
  const manifest: OciManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.manifest,
    config: { mediaType: MEDIA_TYPES.config, ...configBlob },
    layers,
  };
  return store.putBytes(JSON.stringify(manifest));
}

/** Builds the image of a directory (over the base layers, if any); returns the manifest's digest and size. */
export async function buildImage(store: ArtifactStore, input: BuildImageInput): Promise<{ digest: string; size: number }> {
  const layer = await putDirectoryLayer(store, input);
  return putImage(store, [...(input.baseLayers ?? []), layer], input.config);
}

