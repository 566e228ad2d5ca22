// Images go from Slipway's content store into podman's storage once per digest (runner/podman.ts
// loadIntoPodman: through an OCI layout), tagged localhost/slipway-image:<hex>.
// Podman keeps the manifest digest it pulled: a tag found later is checked against it, so a
// container always runs exactly the image its release names.
import type { ArtifactStore } from '../../artifacts/store.ts';
import { loadIntoPodman } from '../../artifacts/podman-image.ts';
import type { Podman } from './podman.ts';
import { LoadOnce } from '../load-once.ts';

export function imageTag(digest: string): string {
  const hex = digest.replace(/^sha256:/, '');
  if (!/^[a-f0-9]{64}$/.test(hex)) throw new Error(`not an image digest: ${digest}`);
  return `localhost/slipway-image:${hex}`;
}

export class ContainerImages {
  private readonly images = new LoadOnce((digest) => this.load(digest));

  constructor(private readonly podman: Podman, private readonly store: ArtifactStore) {}

  /** The local name of the image `digest` in podman's storage, pulled there if it is not yet. */
  ensure(digest: string): Promise<string> {
    return this.images.get(digest);
  }

  private async storedDigest(tag: string): Promise<string | undefined> {
    const found = await this.podman.run(['image', 'inspect', '--format', '{{.Digest}}', tag]).catch(() => undefined);
    return found?.stdout.trim();
  }

  private async load(digest: string): Promise<string> {
    const tag = imageTag(digest);
    if (await this.storedDigest(tag) !== digest) await loadIntoPodman(this.store, digest, tag, this.podman.containersConf);
    const stored = await this.storedDigest(tag);
    if (stored !== digest) throw new Error(`podman stored ${digest} as ${stored ?? 'nothing'}`);
    return tag;
  }
}
