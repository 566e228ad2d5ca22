// Reproducible OCI images in the content-addressed store (the store's blobs/sha256 is an OCI
// blob store). An image is one uncompressed tar layer of a directory, written so the same
// directory content always gives the same bytes: entries sorted, mtime 0, uid/gid 0, no user
// names, modes normalised to 0755/0644; a config without a creation time; and a manifest. The
// image's identity is the manifest digest.
import { createHash } from 'node:crypto';
import { closeSync, constants, lstatSync, openSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { open } from 'node:fs/promises';
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

/**
 * The walk (listings, lstat, small files) uses the synchronous calls: each async one is a trip
 * through libuv's thread pool, which for a tree in the page cache (a fresh checkout) costs
 * several times the call itself (bench: build-overhead). To keep the server responsive on a
 * large tree, the walk yields to the event loop after this much of it.
 */
const SLICE_MS = 10;

/** A small file's content. Never follows a symlink on the host: one swapped in after the lstat is refused (ELOOP). */
function readSmallFile(path: string, size: number): Buffer {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  let body: Buffer;
  try { body = readFileSync(fd); } finally { closeSync(fd); }
  // The same check tar-stream makes of a streamed entry: the size in the header is the truth.
  if (body.length !== size) throw new Error(`${path} changed while it was being packed`);
  return body;
}

/** A file's content; a big one read without blocking the event loop (as readSmallFile otherwise). */
async function readFileEntry(path: string, size: number): Promise<Buffer> {
  if (size <= SMALL_FILE) return readSmallFile(path, size);
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  let body: Buffer;
  try { body = await handle.readFile(); } finally { await handle.close(); }
  if (body.length !== size) throw new Error(`${path} changed while it was being packed`);
  return body;
}

async function streamFileEntry(pack: Pack, header: TarHeader, path: string): Promise<void> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  let sink: ReturnType<Pack['entry']> | undefined;
  const entryDone = new Promise<void>((resolve, reject) => {
    sink = pack.entry(header, (err) => (err ? reject(err) : resolve()));
  });
  if (!sink) { await handle.close(); throw new Error('tar entry not created'); }
  await pipeline(handle.createReadStream(), sink);
  await entryDone;
}

type TarHeader = Parameters<Pack['entry']>[0];
/** One entry of a layer, in tar order: a file's header comes with its path on the host. */
interface WalkedEntry { header: TarHeader; path?: string }

const FIXED = { mtime: new Date(0), uid: 0, gid: 0 };

/** `at` ('app/x') as its directory entries, parents first: the layer holds the path itself. */
function parentEntries(at: string | undefined): WalkedEntry[] {
  const segments = (at ?? '').split('/').filter(Boolean);
  return segments.map((_, i) => ({ header: { ...FIXED, name: `${segments.slice(0, i + 1).join('/')}/`, mode: 0o755, type: 'directory' } }));
}

/** The entries of the layer of `input.dir`, in the order the tar holds them, each handed to `visit`. */
async function walkDirectory(input: BuildImageInput, visit: (entry: WalkedEntry) => Promise<void>): Promise<void> {
  const prefix = input.at ? `${input.at.replace(/^\/+|\/+$/g, '')}/` : '';
  let sliceStart = performance.now();
  const walk = async (rel: string): Promise<void> => {
    for (const name of sortedByName(readdirSync(rel ? join(input.dir, rel) : input.dir))) {
      const relPath = rel ? `${rel}/${name}` : name;
      const path = join(input.dir, relPath);
      const info = lstatSync(path);
      if (input.exclude?.(relPath, info.isDirectory())) continue;
      const entryName = `${prefix}${relPath}`;
      if (info.isDirectory()) {
        await visit({ header: { ...FIXED, name: `${entryName}/`, mode: 0o755, type: 'directory' } });
        await walk(relPath);
      } else if (info.isSymbolicLink()) {
        await visit({ header: { ...FIXED, name: entryName, mode: 0o777, type: 'symlink', linkname: readlinkSync(path) } });
      } else if (info.isFile()) {
        await visit({ header: { ...FIXED, name: entryName, size: info.size, mode: normalisedMode(info.mode, false), type: 'file' }, path });
      }
      // Sockets, fifos and devices have no place in an image: left out.
      if (performance.now() - sliceStart > SLICE_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        sliceStart = performance.now();
      }
    }
  };
  await walk('');
}

/** Writes a tar made by `fill` into the store, streamed and hashed on the way (no temp tar, no second read). */
async function putLayer(store: ArtifactStore, fill: (pack: Pack) => Promise<void>): Promise<Descriptor> {
  const pack = tarPack();
  // tar-stream's pack is a streamx Readable of Buffers (typed as yielding unknown).
  const stored = store.putStream(pack as AsyncIterable<Buffer>);
  try {
    await fill(pack);
    pack.finalize();
  } catch (err) {
    pack.destroy(err as Error);
    await stored.catch(() => undefined);
    throw err;
  }
  return { mediaType: MEDIA_TYPES.layer, ...await stored };
}

/** Writes the reproducible tar of `dir` into the store and returns its descriptor. */
export async function putDirectoryLayer(store: ArtifactStore, input: BuildImageInput): Promise<Descriptor> {
  return putLayer(store, async (pack) => {
    for (const entry of parentEntries(input.at)) await writeEntry(pack, entry.header);
    await walkDirectory(input, async ({ header, path }) => {
      if (path === undefined) return writeEntry(pack, header);
      if ((header.size ?? 0) <= SMALL_FILE) return writeEntry(pack, header, readSmallFile(path, header.size ?? 0));
      return streamFileEntry(pack, header, path);
    });
  });
}

/**
 * A directory's layer read into memory (every entry and content), to be packed and stored
 * later: what is packed is what was there when it was read, whatever happens to the directory
 * since (the build's sources, read before repository code may change them).
 */
export interface DirectorySnapshot { entries: { header: TarHeader; body?: Buffer }[] }

/** Reads the layer of `input.dir` into memory; undefined when its files outgrow `maxBytes`. */
export async function snapshotDirectory(input: BuildImageInput, maxBytes: number): Promise<DirectorySnapshot | undefined> {
  const entries: DirectorySnapshot['entries'] = parentEntries(input.at);
  let bytes = 0;
  const tooBig = new Error('too big');
  try {
    await walkDirectory(input, async ({ header, path }) => {
      if (path === undefined) return void entries.push({ header });
      bytes += header.size ?? 0;
      if (bytes > maxBytes) throw tooBig;
      entries.push({ header, body: await readFileEntry(path, header.size ?? 0) });
    });
  } catch (err) {
    if (err === tooBig) return undefined;
    throw err;
  }
  return { entries };
}

/** Builds the image of a snapshot: the same image buildImage makes of the directory as it was read. */
export async function buildSnapshotImage(store: ArtifactStore, snapshot: DirectorySnapshot, input: Pick<BuildImageInput, 'baseLayers' | 'config'> = {}): Promise<{ digest: string; size: number }> {
  const layer = await putLayer(store, async (pack) => {
    for (const { header, body } of snapshot.entries) await writeEntry(pack, header, body);
  });
  return putImage(store, [...(input.baseLayers ?? []), layer], input.config);
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
  const configBytes = Buffer.from(JSON.stringify(imageConfig), 'utf8');
  const manifest: OciManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.manifest,
    config: { mediaType: MEDIA_TYPES.config, digest: `sha256:${createHash('sha256').update(configBytes).digest('hex')}`, size: configBytes.length },
    layers,
  };
  // Both stored at once: the image exists for the caller (who records it) once both are; a
  // crash in between leaves only blobs no record names.
  const [, image] = await Promise.all([store.putBytes(configBytes), store.putBytes(JSON.stringify(manifest))]);
  return image;
}

/** Builds the image of a directory (over the base layers, if any); returns the manifest's digest and size. */
export async function buildImage(store: ArtifactStore, input: BuildImageInput): Promise<{ digest: string; size: number }> {
  const layer = await putDirectoryLayer(store, input);
  return putImage(store, [...(input.baseLayers ?? []), layer], input.config);
}

