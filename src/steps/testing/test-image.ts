// The container image of one test run (Cloud Manager's "tests packaged in a Docker image"):
// the `test` base image (Debian's nodejs, chromium, chromium-driver; artifacts/base-image.ts)
// plus the unpacked test bundle as a layer at /tests, read-only in the container like the whole
// image (tests write to REPORTS_PATH, HOME and /tmp). Built in the artifact store like every
// image (content-addressed: the same bundle gives the same digest; nothing of the bundle runs
// while building) and loaded into podman, where the base's layer is already present.
import { randomBytes } from 'node:crypto';
import { ensureBaseImage, type BaseImage } from '../../artifacts/base-image.ts';
import { buildImage } from '../../artifacts/oci.ts';
import type { ArtifactStore } from '../../artifacts/store.ts';
import { loadIntoPodman } from '../../artifacts/podman-image.ts';
import { podman } from '../../runner/podman.ts';
import { TEST_CONTAINER_LABEL } from '../../runner/container.ts';

export const TESTS_DIR = '/tests';

export interface TestImage {
  /** The manifest digest in the artifact store. */
  digest: string;
  /** podman's name for it, this run's own. */
  reference: string;
  remove(): Promise<void>;
}

export interface ImageInputs {
  store: ArtifactStore;
  containersConf: string;
  signal: AbortSignal;
  log(line: string): void;
}

function shortHex(digest: string): string {
  return digest.slice('sha256:'.length, 'sha256:'.length + 16);
}

/**
 * The test base, in the store and in podman's storage (named by its digest, kept: its layer is
 * then shared by every test image instead of being copied for each). Built once per machine.
 */
export async function testBase(inputs: ImageInputs): Promise<BaseImage> {
  const base = await ensureBaseImage(inputs.store, 'test', { signal: inputs.signal, log: inputs.log });
  if (!base.digest) throw new Error('the test base image has no layers');
  const name = `localhost/slipway-base:test-${shortHex(base.digest)}`;
  const exists = await podman(['image', 'exists', name], { containersConf: inputs.containersConf });
  if (exists.code !== 0) await loadIntoPodman(inputs.store, base.digest, name, inputs.containersConf);
  return base;
}

export async function buildTestImage(inputs: ImageInputs, bundleDir: string): Promise<TestImage> {
  const base = await testBase(inputs);
  const image = await buildImage(inputs.store, {
    dir: bundleDir, at: TESTS_DIR, baseLayers: base.layers,
    config: { ...base.config, workingDir: TESTS_DIR, labels: { [TEST_CONTAINER_LABEL]: '1' } },
  });
  const reference = `localhost/slipway-tests:${shortHex(image.digest)}-${randomBytes(4).toString('hex')}`;
  await loadIntoPodman(inputs.store, image.digest, reference, inputs.containersConf);
  return {
    digest: image.digest,
    reference,
    // Without --force: an image another run's container still uses only loses this run's tag.
    remove: async () => { await podman(['rmi', reference], { containersConf: inputs.containersConf }); },
  };
}
