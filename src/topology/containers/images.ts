// Images go from Slipway's content store into podman's storage once per digest (runner/podman.ts
// loadIntoPodman: through an OCI layout), tagged localhost/slipway-image:<hex>.
// Podman keeps the manifest digest it pulled: a tag found later is checked against it, so a
// container always runs exactly the image its release names.
// Nothing else removes them: prune() drops those no release keeps (kept-images.ts), so podman's
// storage does not grow with every deploy.
import type { ArtifactStore } from '../../artifacts/store.ts';
import { loadIntoPodman } from '../../artifacts/podman-image.ts';
import type { Podman } from './podman.ts';
import { LoadOnce } from '../load-once.ts';

const REPOSITORY = 'localhost/slipway-image';

export function imageTag(digest: string): string {
  const hex = digest.replace(/^sha256:/, '');
  if (!/^[a-f0-9]{64}$/.test(hex)) throw new Error(`not an image digest: ${digest}`);
  return `${REPOSITORY}:${hex}`;
}

/** Image ids as podman prints them, with or without the prefix. */
const bareId = (id: string): string => id.trim().replace(/^sha256:/, '');

export class ContainerImages {
  private readonly images = new LoadOnce((digest) => this.load(digest));

  constructor(private readonly podman: Podman, private readonly store: ArtifactStore) {}

  /** The local name of the image `digest` in podman's storage, pulled there if it is not yet. */
  ensure(digest: string): Promise<string> {
    return this.images.get(digest);
  }

  /** The image is no longer in podman's storage (another Slipway process pruned it): ensure() loads it again. */
  forget(digest: string): void {
    this.images.forget(digest);
  }

  /**
   * Removes from podman's storage the slipway-image images that are not `kept` and that no
   * container uses (running or stopped, whoever made it), and returns their digests. Only images
   * this Slipway's store holds are candidates: podman's storage is the machine's, and another
   * Slipway (another data dir) may keep an image it alone can load again. `podman image rm`
   * without --force also refuses an image in use; a refusal is logged, never thrown.
   * `kept` is read after podman's lists: a deploy records its image (kept) before loading it,
   * so an image loaded after the record was read is not listed yet.
   */
  async prune(kept: () => Promise<ReadonlySet<string>>, log: (line: string) => void): Promise<string[]> {
    const [listed, used] = await Promise.all([
      this.podman.run(['images', '--no-trunc', '--filter', `reference=${REPOSITORY}`, '--format', '{{.Repository}} {{.Tag}} {{.ID}}']),
      this.podman.run(['ps', '--all', '--no-trunc', '--format', '{{.ImageID}}']),
    ]);
    const keep = await kept();
    const inUse = new Set(used.stdout.split('\n').filter((l) => l.trim() !== '').map(bareId));
    const removed: string[] = [];
    for (const line of listed.stdout.split('\n')) {
      const [repository, hex, id] = line.trim().split(/\s+/);
      // Checked here as well as filtered by podman: never an image of another repository.
      if (repository !== REPOSITORY || !hex || !/^[a-f0-9]{64}$/.test(hex) || !id) continue;
      const digest = `sha256:${hex}`;
      if (keep.has(digest) || inUse.has(bareId(id)) || !await this.store.has(digest)) continue;
      try {
        await this.podman.run(['image', 'rm', imageTag(digest)]);
        this.images.forget(digest);
        removed.push(digest);
        log(`podman storage: removed the image ${digest} (no environment runs it or keeps it for a rollback)`);
      } catch (err) {
        // Another Slipway process pruned it first: gone, as wanted.
        if (/image not known/.test(String(err))) { this.images.forget(digest); continue; }
        log(`podman storage: kept the image ${digest}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return removed;
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
