// Warms the test base image before any test runs (global-setup.ts): on a fresh machine it is
// built once with mmdebstrap (minutes: Chromium is big) and loaded into podman, so no single
// test waits for it inside its own timeout. Nothing to do where tests run in the sandbox.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsArtifactStore } from '../../src/artifacts/fs-store.ts';
import { writeContainersConf } from '../../src/runner/podman.ts';
import { chooseIsolation } from '../../src/steps/testing/isolation.ts';
import { testBase } from '../../src/steps/testing/test-image.ts';

export async function warmTestBase(log: (line: string) => void): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'slipway-test-base-'));
  try {
    const containersConf = await writeContainersConf(join(dir, 'podman'));
    if ((await chooseIsolation(containersConf)).isolation !== 'container') return;
    const store = new FsArtifactStore(join(dir, 'store'));
    await testBase({ store, containersConf, signal: new AbortController().signal, log });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
