// Pushing an image from the store to a registry the operator configured (SLIPWAY_REGISTRY),
// with skopeo: the image is written out as an OCI layout and copied with its digests preserved,
// so the pushed image is byte for byte the one that was built and tested, and its reference by
// digest names the same bytes as in Slipway's own registry.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { exportOciLayout } from './oci-layout.ts';
import { isDigest, isTag } from './registry.ts';
import type { ArtifactStore } from './store.ts';

const run = promisify(execFile);

/** Where images are pushed (SLIPWAY_REGISTRY, SLIPWAY_REGISTRY_TLS_VERIFY, SLIPWAY_REGISTRY_AUTH_FILE). */
export interface PushRegistry {
  /** `host[:port][/path]`: images go to `<this>/<program id>/<image>`. */
  location: string;
  /** false: plain HTTP or an unverified certificate. */
  tlsVerify: boolean;
  /** A containers auth file (what `podman login --authfile` writes) with the push credentials. */
  authFile?: string;
}
/** An upload slower than this fails the step rather than holding it for ever. */
export const PUSH_TIMEOUT_MS = 15 * 60 * 1000;

export interface PushRequest {
  /** Repository under the registry's location: `<program id>/<image>`. */
  repository: string;
  digest: string;
  /** The tag it is pushed under (registries need one for a push): the artifacts version. */
  tag: string;
}

/** Pushes the image and returns its reference by digest in the configured registry. */
export async function pushImage(store: ArtifactStore, registry: PushRegistry, image: PushRequest, signal?: AbortSignal): Promise<string> {
  if (!isDigest(image.digest) || !isTag(image.tag)) throw new Error(`cannot push ${image.repository}@${image.digest}:${image.tag}`);
  const scratch = await mkdtemp(join(tmpdir(), 'slipway-push-'));
  try {
    const layout = join(scratch, 'layout');
    await exportOciLayout(store, image.digest, layout, image.tag);
    const digestFile = join(scratch, 'digest');
    const destination = `${registry.location}/${image.repository}`;
    await run('skopeo', [
      'copy', '--quiet', '--preserve-digests', '--digestfile', digestFile,
      `--dest-tls-verify=${registry.tlsVerify}`, ...(registry.authFile ? ['--dest-authfile', registry.authFile] : []),
      `oci:${layout}:${image.tag}`, `docker://${destination}:${image.tag}`,
    ], { timeout: PUSH_TIMEOUT_MS, signal, maxBuffer: 1024 * 1024 });
    const pushed = (await readFile(digestFile, 'utf8')).trim();
    if (pushed !== image.digest) throw new Error(`${destination} stored ${pushed}, not ${image.digest}`);
    return `${destination}@${image.digest}`;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(`pushing ${image.repository} to ${registry.location} failed: ${stderr || (error as Error).message}`, { cause: error });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
