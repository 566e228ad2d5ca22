// The OCI image format as Slipway writes it: media types, manifest and config shapes, and
// reading them back from the store. Shared by the image builder and the unpacker.
import type { ArtifactStore } from './store.ts';

export const MEDIA_TYPES = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  index: 'application/vnd.oci.image.index.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
} as const;

/** The annotation on a layer descriptor that says whose layer it is; base layers say 'base'. */
export const LAYER_ROLE_ANNOTATION = 'io.slipway.layer';
export const BASE_LAYER_ROLE = 'base';

export interface ImageRuntimeConfig {
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  workingDir?: string;
  /** "uid:gid" or a user name of the image's /etc/passwd. */
  user?: string;
  /** TCP ports the image listens on. */
  exposedPorts?: number[];
  labels?: Record<string, string>;
}

export interface BuildImageInput {
  dir: string;
  /** Where the directory lands in the image ('app' = /app); the image root by default. */
  at?: string;
  /** Layers under the directory's layer (a base image's, from base-image.ts). */
  baseLayers?: Descriptor[];
  config?: ImageRuntimeConfig;
  /** Leaves out paths (relative, '/'-separated) for which this returns true, with their content. */
  exclude?(relPath: string, isDirectory: boolean): boolean;
}

export interface Descriptor { mediaType: string; digest: string; size: number; annotations?: Record<string, string> }

/** True for a layer of a base image (marked with LAYER_ROLE_ANNOTATION when the image was built). */
export function isBaseLayer(layer: Descriptor): boolean {
  return layer.annotations?.[LAYER_ROLE_ANNOTATION] === BASE_LAYER_ROLE;
}

export interface OciManifest {
  schemaVersion: 2;
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
}

export interface OciImageConfig {
  architecture: string;
  os: string;
  config: {
    Entrypoint?: string[]; Cmd?: string[]; Env?: string[]; WorkingDir?: string; User?: string;
    ExposedPorts?: Record<string, Record<string, never>>; Labels?: Record<string, string>;
  };
  rootfs: { type: 'layers'; diff_ids: string[] };
  /** One entry per layer: builders (buildah, `podman build FROM …`) refuse an image whose history does not count its layers. */
  history: { created_by: string }[];
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
