// The container image of one test run (Cloud Manager's "tests packaged in a Docker image"):
// the `test` base image (Debian's nodejs, chromium, chromium-driver; artifacts/base-image.ts)
// plus the unpacked test bundle at /tests, read-only in the container like the whole image
// (tests write to REPORTS_PATH, HOME and /tmp). Built with `podman build` from a Containerfile
// kept outside the bundle: only COPY, no RUN, so nothing of the bundle executes while
// building, and COPY keeps symlinks as links. One image per run, removed with the run.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBaseImage } from '../../artifacts/base-image.ts';
import type { ArtifactStore } from '../../artifacts/store.ts';
import { loadIntoPodman, podman } from '../../runner/podman.ts';
import { TEST_CONTAINER_LABEL } from '../../runner/container.ts';

export const TESTS_DIR = '/tests';

export interface TestImage {
  reference: string;
  remove(): Promise<void>;
}

export interface ImageInputs {
  store: ArtifactStore;
  containersConf: string;
  signal: AbortSignal;
  log(line: string): void;
}

/**
 * The test base in podman's storage, named by its manifest digest: loaded from the store once
 * per machine (the base itself is built once per machine, base-image.ts).
 */
export async function testBase(inputs: ImageInputs): Promise<string> {
  const base = await ensureBaseImage(inputs.store, 'test', { signal: inputs.signal, log: inputs.log });
  if (!base.digest) throw new Error('the test base image has no layers');
  const name = `localhost/slipway-base:test-${base.digest.slice('sha256:'.length, 'sha256:'.length + 16)}`;
  const exists = await podman(['image', 'exists', name], { containersConf: inputs.containersConf });
  if (exists.code !== 0) await loadIntoPodman(inputs.store, base.digest, name, inputs.containersConf);
  return name;
}

export async function buildTestImage(inputs: ImageInputs, bundleDir: string): Promise<TestImage> {
  const base = await testBase(inputs);
  const reference = `localhost/slipway-tests:${randomBytes(8).toString('hex')}`;
  const scratch = await mkdtemp(join(tmpdir(), 'slipway-test-image-'));
  try {
    const containerfile = join(scratch, 'Containerfile');
    await writeFile(containerfile, `FROM ${base}\nCOPY . ${TESTS_DIR}/\nWORKDIR ${TESTS_DIR}\n`);
    const built = await podman([
      'build', '--quiet', '--pull=never', '--network=none', '--label', `${TEST_CONTAINER_LABEL}=1`,
      '--file', containerfile, '--tag', reference, bundleDir,
    ], { containersConf: inputs.containersConf, signal: inputs.signal });
    if (built.code !== 0) throw new Error(`podman build of the test image failed: ${built.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return {
    reference,
    remove: async () => { await podman(['rmi', '--force', reference], { containersConf: inputs.containersConf }); },
  };
}
