// The OCI image format as Slipway writes it: media types, manifest and config shapes, and
// reading them back from the store. Shared by the image builder and the unpacker.
import type { ArtifactStore } from './store.ts';

export const MEDIA_TYPES = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  index: 'application/vnd.oci.image.index.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
} as const;

export interface ImageRuntimeConfig {
  cmd?: string[];
  env?: string[];
  workingDir?: string;
  labels?: Record<string, string>;
}

export interface BuildImageInput {
  dir: string;
  config?: ImageRuntimeConfig;
  /** Leaves out paths (relative, '/'-separated) for which this returns true, with their content. */
  exclude?(relPath: string, isDirectory: boolean): boolean;
}

export interface Descriptor { mediaType: string; digest: string; size: number }

export interface OciManifest {
  schemaVersion: 2;
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
}

export interface OciImageConfig {
  architecture: string;
  os: string;
  config: { Cmd?: string[]; Env?: string[]; WorkingDir?: string; Labels?: Record<string, string> };
  rootfs: { type: 'layers'; diff_ids: string[] };
}

export async function readManifest(store: ArtifactStore, digest: string): Promise<OciManifest> {
  const manifest = JSON.parse((await store.read(digest)).toString('utf8')) as OciManifest;
  if (manifest.schemaVersion !== 2 || !manifest.config || !Array.isArray(manifest.layers)) {
    throw new Error(`${digest} is not an OCI image manifest`);
  }
  return manifest;
}

export async function readImageConfig(store: ArtifactStore, manifestDigest: string): Promise<OciImageConfig> {
  const manifest = await readManifest(store, manifestDigest);
  return JSON.parse((await store.read(manifest.config.digest)).toString('utf8')) as OciImageConfig;
}

/** Every blob of an image: the manifest, its config, its layers. */
export async function imageBlobs(store: ArtifactStore, manifestDigest: string): Promise<string[]> {
  const manifest = await readManifest(store, manifestDigest);
  return [manifestDigest, manifest.config.digest, ...manifest.layers.map((l) => l.digest)];
}
