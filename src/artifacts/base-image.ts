// Base images: root filesystems built from Debian packages (debian-rootfs.ts) that app,
// dispatcher and test images are layered on. A base is content-addressed by what goes into it
// (suite, variant, sorted package list): its key. The layer tar is kept in a machine-wide cache
// shared by every data dir, so only the first build on a machine pays (about 15 s for node);
// a lock file per key makes two processes that want the same base at once build it once.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { APP_USER, buildRootfsLayer, hostSuite, type RootfsSpec, type RootfsVariant } from './debian-rootfs.ts';
import { pidIn, sweepDeadPids } from '../runner/pids.ts';
import { withFileLock } from './file-lock.ts';
import { digestOfFile } from './fs-store.ts';
import { BASE_LAYER_ROLE, LAYER_ROLE_ANNOTATION, MEDIA_TYPES, type Descriptor, type ImageRuntimeConfig } from './oci-format.ts';
import { putImage } from './oci.ts';
import type { ArtifactStore, StoredBlob } from './store.ts';

/** Bumped when the way a base is built changes, so cached bases built the old way are not used. */
const BUILD_FORMAT = 4;

export const BASE_NAMES = ['node', 'static', 'none', 'dispatcher', 'test'] as const;
export type BaseName = (typeof BASE_NAMES)[number];

interface BaseDefinition {
  variant: RootfsVariant;
  packages: readonly string[];
  /** What the base image runs when nothing else is said (the app image replaces it). */
  cmd?: string[];
}

/**
 * `static` is busybox-static alone (about 2 MB): a shell for start commands and `httpd` to
 * serve files, which is all a static site needs; python3 would be ten times the size.
 * `none` has no Debian system: the image is the app's own layer (a static binary), or, with
 * extra packages, Debian's essential set plus those packages.
 */
const BASES: Record<Exclude<BaseName, 'none'>, BaseDefinition> = {
  node: { variant: 'essential', packages: ['ca-certificates', 'nodejs'], cmd: ['node'] },
  static: { variant: 'extract', packages: ['busybox-static'], cmd: ['/bin/sh'] },
  dispatcher: { variant: 'essential', packages: ['varnish'] },
  test: { variant: 'essential', packages: ['ca-certificates', 'chromium', 'chromium-driver', 'nodejs'], cmd: ['node'] },
};

/** A base by name, or a base plus extra Debian packages (slipway.yaml's image.base/packages). */
export type BaseRequest = BaseName | { base: BaseName; packages?: readonly string[] };

export interface BaseImage {
  /** sha256 hex of the suite, variant and sorted package list; '' for `none` without packages. */
  key: string;
  /** What was built; undefined for `none` without packages. */
  spec?: RootfsSpec;
  /** The base's layers, annotated as base layers (LAYER_ROLE_ANNOTATION); [] for `none`. */
  layers: Descriptor[];
  /** The base's runtime configuration: the non-root user, working dir /app, its default cmd. */
  config: ImageRuntimeConfig;
  /** The manifest digest of the base as an image of its own; undefined when it has no layers. */
  digest?: string;
}

export interface BaseImageOptions {
  /** Where built bases are kept; defaults to baseImageCacheDir(). */
  cacheDir?: string;
  /** apt sources files given to mmdebstrap; defaults to this machine's. */
  sources?: readonly string[];
  /** Debian suite; defaults to this machine's (e.g. bookworm). */
  suite?: string;
  signal?: AbortSignal;
  /** Told when a base is really built (not found in the cache). */
  log?: (line: string) => void;
}

interface CacheEntry { key: string; spec: RootfsSpec; layer: StoredBlob }

/** $SLIPWAY_IMAGE_CACHE, else /var/cache/slipway/base-images for root, else ~/.cache/slipway/base-images. */
export function baseImageCacheDir(): string {
  const configured = process.env.SLIPWAY_IMAGE_CACHE;
  if (configured) return configured;
  if (process.getuid?.() === 0) return '/var/cache/slipway/base-images';
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'slipway', 'base-images');
}

/** What the request builds (undefined: nothing, `none` alone). Packages sorted, deduplicated. */
export function baseSpec(request: BaseRequest, suite: string): RootfsSpec | undefined {
  const { base, packages: extra = [] } = typeof request === 'string' ? { base: request } : request;
  if (base === 'static' && extra.length > 0) throw new Error('base "static" takes no extra packages (choose "none" or "node")');
  const definition = base === 'none' ? undefined : BASES[base];
  const packages = [...new Set([...(definition?.packages ?? []), ...extra])].sort();
  if (!definition && packages.length === 0) return undefined;
  return { suite, variant: definition?.variant ?? 'essential', packages };
}

export function baseKey(spec: RootfsSpec): string {
  const identity = JSON.stringify({ format: BUILD_FORMAT, suite: spec.suite, variant: spec.variant, packages: [...spec.packages].sort() });
  return createHash('sha256').update(identity).digest('hex');
}

function baseConfig(request: BaseRequest): ImageRuntimeConfig {
  const name = typeof request === 'string' ? request : request.base;
  const cmd = name === 'none' ? undefined : BASES[name].cmd;
  return { user: `${APP_USER.uid}:${APP_USER.gid}`, workingDir: '/app', ...(cmd ? { cmd } : {}) };
}

async function readCacheEntry(path: string): Promise<CacheEntry | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as CacheEntry;
  } catch {
    return undefined;
  }
}

/** The cached layer of the spec, built first if the cache has none. */
async function cachedLayer(spec: RootfsSpec, key: string, opts: BaseImageOptions): Promise<{ path: string; entry: CacheEntry }> {
  const dir = opts.cacheDir ?? baseImageCacheDir();
  const tarPath = join(dir, `${key}.tar`);
  const entryPath = join(dir, `${key}.json`);
  const found = await readCacheEntry(entryPath);
  if (found) return { path: tarPath, entry: found };
  await mkdir(dir, { recursive: true });
  return withFileLock(join(dir, `${key}.lock`), async () => {
    const built = await readCacheEntry(entryPath); // another process may have built it meanwhile
    if (built) return { path: tarPath, entry: built };
    opts.log?.(`building base image ${spec.variant} [${spec.packages.join(' ')}] (${spec.suite}), once per machine`);
    // A build cut off by a crash left its tar: hundreds of MB, never renamed into place.
    sweepDeadPids(dir, pidIn(/\.tmp-(\d+)$/));
    const tmp = `${tarPath}.tmp-${process.pid}`;
    try {
      await buildRootfsLayer(spec, tmp, { ...(opts.sources ? { sources: opts.sources } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
      const layer = await digestOfFile(tmp);
      await rename(tmp, tarPath);
      const entry: CacheEntry = { key, spec, layer };
      // The entry is written last: a tar without its entry is never trusted.
      await writeFile(`${entryPath}.tmp-${process.pid}`, JSON.stringify(entry));
      await rename(`${entryPath}.tmp-${process.pid}`, entryPath);
      return { path: tarPath, entry };
    } finally {
      await rm(tmp, { force: true });
    }
  }, opts.signal);
}

/** Builds the base into the machine-wide cache if it is not there yet (no store involved). */
export async function prepareBaseImage(request: BaseRequest, opts: BaseImageOptions = {}): Promise<void> {
  const spec = baseSpec(request, opts.suite ?? hostSuite());
  if (spec) await cachedLayer(spec, baseKey(spec), opts);
}

/**
 * The base image of the request, with its blobs in `store`: built with mmdebstrap the first
 * time on this machine, then taken from the machine-wide cache (a hard link into the store).
 */
export async function ensureBaseImage(store: ArtifactStore, request: BaseRequest, opts: BaseImageOptions = {}): Promise<BaseImage> {
  const config = baseConfig(request);
  const spec = baseSpec(request, opts.suite ?? hostSuite());
  if (!spec) return { key: '', layers: [], config };
  const key = baseKey(spec);
  const { path, entry } = await cachedLayer(spec, key, opts);
  const blob = await store.putKnownFile(path, entry.layer);
  const layers: Descriptor[] = [{ mediaType: MEDIA_TYPES.layer, ...blob, annotations: { [LAYER_ROLE_ANNOTATION]: BASE_LAYER_ROLE } }];
  const image = await putImage(store, layers, config);
  return { key, spec, layers, config, digest: image.digest };
}
