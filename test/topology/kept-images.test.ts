// What the container driver keeps in podman's storage per environment: the images its nodes run,
// the one a deploy is bringing in, and its last two settled releases (real files, no podman).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { keptImages, recordDeploying, recordSettled } from '../../src/topology/containers/kept-images.ts';

const digest = (c: string): string => `sha256:${c.repeat(64)}`;
const [A, B, C, D] = ['a', 'b', 'c', 'd'].map(digest) as [string, string, string, string];

describe('the images kept for the container driver', () => {
  let root = '';
  afterEach(() => rmSync(root, { recursive: true, force: true }));
  const envDir = (name: string): string => {
    root ||= mkdtempSync(join(tmpdir(), 'slw-kept-'));
    const dir = join(root, 'environments', name);
    mkdirSync(dir, { recursive: true });
    return dir;
  };
  const sorted = async (): Promise<string[]> => [...await keptImages(join(root, 'environments'))].sort();

  it('are the current and the previous release of each environment', async () => {
    const stage = envDir('stage');
    const prod = envDir('prod');
    for (const image of [A, B, C]) {
      await recordDeploying(stage, image);
      await recordSettled(stage, image);
    }
    await recordDeploying(prod, A);
    await recordSettled(prod, A);
    expect(await sorted()).toEqual([A, B, C]);
    // A re-execution of the current release keeps the one before it.
    await recordDeploying(prod, A);
    await recordSettled(prod, A);
    await recordDeploying(stage, C);
    await recordSettled(stage, C);
    expect(await sorted()).toEqual([A, B, C]);
  });

  it('include the release a deploy is bringing in, until it ends without settling on it', async () => {
    const stage = envDir('stage');
    await recordDeploying(stage, A);
    await recordSettled(stage, A);
    await recordDeploying(stage, D);
    expect(await sorted()).toEqual([A, D]);
    await recordSettled(stage, undefined); // rolled back
    expect(await sorted()).toEqual([A]);
  });

  it('are unknown (thrown) when an environment\'s record cannot be read', async () => {
    const stage = envDir('stage');
    writeFileSync(join(stage, 'podman-images.json'), '{ half');
    await expect(keptImages(join(root, 'environments'))).rejects.toThrow();
  });
});
