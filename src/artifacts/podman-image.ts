// Images of the store in podman's local storage: what runs a container of them (the container
// driver, test bundles) loads them through an OCI layout directory.
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { podman } from '../runner/podman.ts';
import { exportOciLayout } from './oci-layout.ts';
import type { ArtifactStore } from './store.ts';

/**
 * Loads an image of the store into podman's local storage as `name` (e.g. localhost/app:tag),
 * through an OCI layout directory; returns the image id podman gives it.
 */
export async function loadIntoPodman(store: ArtifactStore, manifestDigest: string, name: string, containersConf: string): Promise<string> {
  // Lower case only: the path becomes the loaded image's name, and names are lower case.
  const dir = join(tmpdir(), `slipway-oci-export-${randomBytes(8).toString('hex')}`);
  await mkdir(dir, { mode: 0o700 });
  const opts = { containersConf, timeoutMs: 300_000 };
  try {
    await exportOciLayout(store, manifestDigest, dir, 'image');
    // podman names an image loaded from a directory after the directory's path: retag it.
    const loaded = await podman(['load', '--quiet', '--input', dir], opts);
    const loadedName = /Loaded image(?:\(s\))?: *(\S+)/.exec(loaded.stdout)?.[1];
    if (loaded.code !== 0 || !loadedName) throw new Error(`podman could not load ${manifestDigest}: ${loaded.stderr.trim() || loaded.stdout.trim()}`);
    const tagged = await podman(['tag', loadedName, name], opts);
    if (tagged.code !== 0) throw new Error(`podman tag ${loadedName} ${name}: ${tagged.stderr.trim()}`);
    await podman(['untag', loadedName, loadedName], opts);
    const id = await podman(['image', 'inspect', '--format', '{{.Id}}', name], opts);
    if (id.code !== 0) throw new Error(`podman image inspect ${name}: ${id.stderr.trim()}`);
    return id.stdout.trim();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
