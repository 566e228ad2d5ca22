// Images go from Slipway's content store into podman's storage once per digest: exported as an
// OCI layout, pulled from it (`podman pull oci:DIR`), tagged localhost/slipway-image:<hex>.
// Podman keeps the manifest digest it pulled: a tag found later is checked against it, so a
// container always runs exactly the image its release names.
import { mkdir, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportOciLayout } from '../../artifacts/oci-layout.ts';
import type { ArtifactStore } from '../../artifacts/store.ts';
import type { Podman } from './podman.ts';

export function imageTag(digest: string): string {
  const hex = digest.replace(/^sha256:/, '');
  if (!/^[a-f0-9]{64}$/.test(hex)) throw new Error(`not an image digest: ${digest}`);
  return `localhost/slipway-image:${hex}`;
}

export class ContainerImages {
  private readonly inFlight = new Map<string, Promise<string>>();

  constructor(private readonly podman: Podman, private readonly store: ArtifactStore) {}

  /** The local name of the image `digest` in podman's storage, pulled there if it is not yet. */
  ensure(digest: string): Promise<string> {
    let pending = this.inFlight.get(digest);
    if (!pending) {
      pending = this.load(digest);
      pending.catch(() => this.inFlight.delete(digest));
      this.inFlight.set(digest, pending);
    }
    return pending;
  }

  private async storedDigest(tag: string): Promise<string | undefined> {
    const found = await this.podman.run(['image', 'inspect', '--format', '{{.Digest}}', tag]).catch(() => undefined);
    return found?.stdout.trim();
  }

  private async load(digest: string): Promise<string> {
    const tag = imageTag(digest);
    if (await this.storedDigest(tag) === digest) return tag;
    // podman names what it pulls after the directory: the name must be lowercase.
    const dir = join(tmpdir(), `slipway-oci-${randomBytes(8).toString('hex')}`);
    await mkdir(dir, { recursive: true });
    try {
      await exportOciLayout(this.store, digest, dir, 'image');
      const id = (await this.podman.run(['pull', '-q', `oci:${dir}:image`])).stdout.trim();
      // The pull names the image after the temporary dir: only our tag stays.
      await this.podman.run(['untag', id]);
      await this.podman.run(['tag', id, tag]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const stored = await this.storedDigest(tag);
    if (stored !== digest) throw new Error(`podman stored ${digest} as ${stored ?? 'nothing'}`);
    return tag;
  }
}
