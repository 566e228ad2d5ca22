// Base images from Debian packages, run with podman. The node base is built with mmdebstrap the
// first time on a machine (about a minute or two) and then comes from the machine-wide cache
// (baseImageCacheDir()), which every test and data dir shares.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseKey, baseSpec, ensureBaseImage, type BaseImage } from '../../src/artifacts/base-image.ts';
import { FsArtifactStore } from '../../src/artifacts/fs-store.ts';
import { readImageConfig, readManifest } from '../../src/artifacts/oci.ts';
import { loadIntoPodman } from '../../src/artifacts/podman-image.ts';
import { podman, writeContainersConf } from '../../src/runner/podman.ts';
import { tarListing } from '../support/tar-listing.ts';

const BUILD_TIMEOUT = 600_000;

let root: string;
let conf: string;
const podmanImages: string[] = [];
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'slipway-base-'));
  conf = await writeContainersConf(join(root, 'podman'));
});
afterAll(async () => {
  for (const name of podmanImages) await podman(['rmi', '--force', name], { containersConf: conf });
  rmSync(root, { recursive: true, force: true });
});

describe('base image keys', () => {
  it('the key depends on the set of packages and the suite, not on their order', () => {
    const a = baseSpec({ base: 'node', packages: ['python3-minimal', 'curl'] }, 'bookworm');
    const b = baseSpec({ base: 'node', packages: ['curl', 'python3-minimal', 'curl'] }, 'bookworm');
    expect(a && baseKey(a)).toBe(b && baseKey(b));
    expect(a?.packages).toEqual(['ca-certificates', 'curl', 'nodejs', 'python3-minimal']);
    const other = baseSpec({ base: 'node', packages: ['curl'] }, 'bookworm');
    const trixie = baseSpec({ base: 'node', packages: ['curl', 'python3-minimal'] }, 'trixie');
    expect(other && baseKey(other)).not.toBe(a && baseKey(a));
    expect(trixie && baseKey(trixie)).not.toBe(a && baseKey(a));
  });

  it('"none" alone is no base at all; "none" with packages is Debian essential plus them', () => {
    expect(baseSpec('none', 'bookworm')).toBeUndefined();
    expect(baseSpec({ base: 'none', packages: ['python3-minimal'] }, 'bookworm'))
      .toEqual({ suite: 'bookworm', variant: 'essential', packages: ['python3-minimal'] });
    expect(() => baseSpec({ base: 'static', packages: ['curl'] }, 'bookworm')).toThrow(/static/);
  });
});

describe('a base built twice from scratch', () => {
  it('gives the same layer bytes (static, busybox: a few seconds per build)', async () => {
    const built: string[] = [];
    const digests: string[] = [];
    for (const name of ['one', 'two']) {
      const base = await ensureBaseImage(new FsArtifactStore(join(root, `static-${name}`)), 'static', {
        cacheDir: join(root, `cache-${name}`), log: (line) => built.push(line),
      });
      digests.push(base.digest ?? '');
      const listing = await tarListing(new FsArtifactStore(join(root, `static-${name}`)).pathOf(base.layers[0]?.digest ?? ''));
      expect(listing.get('bin/sh')).toMatchObject({ type: 'symlink', linkname: 'busybox' });
      expect(listing.get('etc/passwd')).toBeDefined();
    }
    expect(built).toHaveLength(2); // really built twice, not taken from a cache
    expect(digests[1]).toBe(digests[0]);
  }, BUILD_TIMEOUT);
});

describe('the node base image', () => {
  let first: BaseImage;
  let listing: Map<string, { mode: number; uid: number; type: string }>;
  const builds: string[] = [];

  beforeAll(async () => {
    first = await ensureBaseImage(new FsArtifactStore(join(root, 'data-1')), 'node', { log: (line) => builds.push(line) });
    const layer = first.layers[0];
    if (!layer) throw new Error('the node base has no layer');
    listing = await tarListing(new FsArtifactStore(join(root, 'data-1')).pathOf(layer.digest));
  }, BUILD_TIMEOUT);

  it('is one base layer, with a non-root user and /app as working dir', async () => {
    const store = new FsArtifactStore(join(root, 'data-1'));
    expect(first.layers).toHaveLength(1);
    expect(first.layers[0]?.annotations?.['io.slipway.layer']).toBe('base');
    expect(first.digest).toBeDefined();
    const manifest = await readManifest(store, first.digest ?? '');
    expect(manifest.layers).toEqual(first.layers);
    const config = await readImageConfig(store, first.digest ?? '');
    expect(config.config.User).toBe('10001:10001');
    expect(config.config.WorkingDir).toBe('/app');
    expect(config.rootfs.diff_ids).toEqual(first.layers.map((l) => l.digest));
  });

  it('holds node but no apt, no docs, man pages or locales, and /tmp stays 1777', () => {
    expect(listing.has('usr/bin/node') || listing.has('usr/bin/nodejs')).toBe(true);
    const names = [...listing.keys()];
    expect(names.filter((n) => /^usr\/bin\/apt/.test(n) || /^etc\/apt\//.test(n) || /^var\/lib\/apt\//.test(n))).toEqual([]);
    expect(names.filter((n) => /^usr\/share\/(man|locale|info)\/./.test(n))).toEqual([]);
    // Only the licences stay (and the symlinks packages ship between their doc directories).
    expect(names.filter((n) => /^usr\/share\/doc\/./.test(n) && !/\/copyright$|\/$/.test(n) && listing.get(n)?.type !== 'symlink')).toEqual([]);
    expect(names.filter((n) => n.startsWith('dev/') && n !== 'dev/')).toEqual([]);
    expect(listing.get('tmp/')?.mode).toBe(0o1777);
    // Only Debian's essential perl-base, not perl with its modules (which usrmerge would pull).
    expect(names.some((n) => n.startsWith('usr/share/perl/') || n.startsWith('usr/lib/usrmerge/'))).toBe(false);
  });

  it('comes from the machine-wide cache for another data dir: same digests, no second build', async () => {
    const again: string[] = [];
    const second = await ensureBaseImage(new FsArtifactStore(join(root, 'data-2')), 'node', { log: (line) => again.push(line) });
    expect(again).toEqual([]);
    expect(second.digest).toBe(first.digest);
    expect(second.layers).toEqual(first.layers);
  });

  it('runs with podman (runc, Slipway\'s containers.conf) as the app user and prints node\'s version', async () => {
    const store = new FsArtifactStore(join(root, 'data-1'));
    const name = `localhost/slipway-test-base:${process.pid}`;
    podmanImages.push(name);
    await loadIntoPodman(store, first.digest ?? '', name, conf);
    const run = await podman(['run', '--rm', '--network', 'none', name, 'node', '-e', 'console.log(process.version, process.getuid())'], { containersConf: conf });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toMatch(/^v\d+\.\d+\.\d+ 10001$/);
    // The node inside is Debian's package (not the host's), at the version dpkg recorded.
    const dpkg = await podman(['run', '--rm', '--network', 'none', name, 'dpkg-query', '-W', '-f', '${Version}', 'nodejs'], { containersConf: conf });
    expect(dpkg.stdout).toMatch(/deb\d+/);
    expect(dpkg.stdout.startsWith(run.stdout.trim().split(' ')[0]?.slice(1) ?? '?')).toBe(true);
  }, 120_000);
});
