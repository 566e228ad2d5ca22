// Slipway's embedded registry, the naming side: which artifacts are pullable images, what their
// repositories are called, and the references (`HOST:PORT/REPOSITORY@sha256:…`) that name
// them. Pure. The pull API itself is src/api/routes/registry.ts.
import { ARTIFACT_TYPES } from './artifact-types.ts';

/** The artifact types served by the registry: the images a node or a cluster runs. */
export const PULLABLE_TYPES: readonly string[] = [ARTIFACT_TYPES.APP_IMAGE, ARTIFACT_TYPES.DISPATCHER_IMAGE];

/** One image of a build, as the buildImage step lists it. */
export interface ImageEntry {
  /** The image's name in its repository (`app`, `dispatcher`): the artifact's name. */
  name: string;
  /** The image manifest's digest. */
  digest: string;
  /** `HOST:PORT/<program id>/<name>@<digest>`; absent when Slipway does not know its address. */
  reference?: string;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;
/** A path component of a repository name (OCI distribution spec). */
const COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
/** A tag (OCI distribution spec). */
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

export const isDigest = (value: string): boolean => DIGEST.test(value);
export const isTag = (value: string): boolean => TAG.test(value);

/**
 * The registry's host (`host:port`) from Slipway's public URL. Registry clients always ask for
 * `/v2/` at the host's root, so a path in the public URL is not part of the reference: a proxy
 * that serves Slipway under a path must also pass `/v2/` through.
 */
export function registryHost(publicUrl: string): string {
  return new URL(publicUrl).host;
}

export function repositoryName(programId: string, image: string): string {
  return `${programId}/${image}`;
}

export function imageReference(host: string, programId: string, image: string, digest: string): string {
  if (!DIGEST.test(digest)) throw new Error(`image ${image}: not a sha256 digest: ${digest}`);
  const repository = repositoryName(programId, image);
  if (!repository.split('/').every((c) => COMPONENT.test(c))) throw new Error(`not a repository name: ${repository}`);
  return `${host}/${repository}@${digest}`;
}

/** `<program>/<image>` split, or undefined when the name has any other shape. */
export function parseRepository(name: string): { program: string; image: string } | undefined {
  const parts = name.split('/');
  if (parts.length !== 2 || !parts.every((c) => COMPONENT.test(c))) return undefined;
  return { program: parts[0] ?? '', image: parts[1] ?? '' };
}
