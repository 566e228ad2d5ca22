// Images unpacked once per digest under <envDir>/images/<hex>/ (rootfs + config.json), shared
// by every node of the environment that runs them. Unpacking goes to a temp dir then renames,
// so a half-unpacked image is never used.
import { mkdir, readFile, rename, rm, writeFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { unpackImage } from '../../artifacts/oci.ts';
import type { ArtifactStore } from '../../artifacts/store.ts';
import { DISPATCHER_FILE, parseDispatcherPackage, type DispatcherPackage } from '../../domain/contract.ts';
import { pidIn, sweepDeadPids } from '../../runner/pids.ts';
import { readWorkspaceFile } from '../../runner/workspace-path.ts';
import { LoadOnce } from '../load-once.ts';

export interface ImageConfig {
  cmd?: string[];
  env?: string[];
  workingDir?: string;
  /** OCI labels; `io.slipway.health` is the app's health path (src/steps/build-image.ts). */
  labels?: Record<string, string>;
}

/** Unpacks an image into destDir and returns its runtime config (normalised names). */
export type UnpackImage = (store: ArtifactStore, manifestDigest: string, destDir: string) => Promise<{ config: ImageConfig }>;

export interface UnpackedImage {
  rootfs: string;
  config: ImageConfig;
}

/** src/artifacts/oci.ts's unpacker, its OCI config (Cmd, Env, WorkingDir) normalised. */
export const defaultUnpack: UnpackImage = async (store, digest, dest) => {
  const { config } = await unpackImage(store, digest, dest);
  const c = config.config;
  return { config: { ...(c.Cmd ? { cmd: c.Cmd } : {}), ...(c.Env ? { env: c.Env } : {}), ...(c.WorkingDir ? { workingDir: c.WorkingDir } : {}),
    ...(c.Labels ? { labels: c.Labels } : {}) } };
};

/** An unpacking dir's name: the image's hex, then its unpacker's pid (load). */
const TEMP_PID = pidIn(/^[a-f0-9]+\.tmp-(\d+)-/);

export class ImageCache {
  private readonly images = new LoadOnce((digest) => this.load(digest));
  /** Whether the unpacking dirs of dead processes were removed (load, once per cache). */
  private swept = false;

  constructor(private readonly root: string, private readonly store: ArtifactStore, private readonly unpack: UnpackImage) {}

  get(digest: string): Promise<UnpackedImage> {
    return this.images.get(digest);
  }

  private async load(digest: string): Promise<UnpackedImage> {
    const hex = digest.replace(/^sha256:/, '');
    if (!/^[a-f0-9]{16,128}$/.test(hex)) throw new Error(`not an image digest: ${digest}`);
    const dir = join(this.root, hex);
    const done = await stat(join(dir, 'config.json')).then(() => true, () => false);
    if (!done) {
      // An unpacking cut off by a crash left its dir: an image's worth of disk, never renamed.
      if (!this.swept) sweepDeadPids(this.root, TEMP_PID);
      this.swept = true;
      const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
      await mkdir(join(tmp, 'rootfs'), { recursive: true });
      const { config } = await this.unpack(this.store, digest, join(tmp, 'rootfs'));
      await writeFile(join(tmp, 'config.json'), JSON.stringify(config));
      await rm(dir, { recursive: true, force: true });
      await rename(tmp, dir);
    }
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as ImageConfig;
    return { rootfs: join(dir, 'rootfs'), config };
  }

  /** The dispatcher package in an image (dispatcher.yaml at its root); defaults without an image. */
  async dispatcherPackage(digest: string | undefined): Promise<DispatcherPackage> {
    if (!digest) return parseDispatcherPackage({});
    const image = await this.get(digest);
    // The image is repository content: its dispatcher.yaml may be a symlink; read it inside only.
    // It sits in the image's working directory (/dispatcher; the root for images made before).
    const dir = (image.config.workingDir ?? '').replace(/^\/+/, '');
    const text = await readWorkspaceFile(image.rootfs, dir ? `${dir}/${DISPATCHER_FILE}` : DISPATCHER_FILE).catch(() => undefined) ?? '';
    return parseDispatcherPackage(text ? parseYaml(text) : {});
  }
}
