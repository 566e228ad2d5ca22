// The pipeline's build cache (Cloud Manager's "pipeline cache"): what package managers download
// during a build, kept between the builds of ONE pipeline under <data>/caches/<pipelineId>/.
// The build sandbox gets it as a writable directory; `DELETE …/pipeline/:id/cache` empties it,
// so the next build starts cold. Its content is written by repository code: only later builds
// of the same pipeline, inside the sandbox, ever read it.
import { randomBytes } from 'node:crypto';
import { lchownSync, mkdirSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { sandboxHost } from './sandbox-host.ts';

const CACHES = 'caches';

export function buildCacheDir(dataDir: string, pipelineId: string): string {
  // Ids come from the store (digits); anything else must never become a path.
  if (!/^[A-Za-z0-9_-]+$/.test(pipelineId)) throw new Error(`invalid pipeline id for a cache: ${pipelineId}`);
  return join(dataDir, CACHES, pipelineId);
}

/**
 * Creates the pipeline's cache directory and returns it. The one place it is created: when
 * builds run as an unprivileged account, a new one becomes that account's here (empty, it is a
 * single lchown; the sandbox hands over a cache whose top is not the account's with chown -R).
 */
export async function prepareBuildCache(dataDir: string, pipelineId: string): Promise<string> {
  const dir = buildCacheDir(dataDir, pipelineId);
  // Synchronous: a build's start waits for it (see steps/build-checkout.ts freshWorkDirs).
  mkdirSync(join(dataDir, CACHES), { recursive: true });
  const account = sandboxHost().runAs;
  if (mkdirSync(dir, { recursive: true, mode: 0o700 }) !== undefined && account) lchownSync(dir, account.uid, account.gid);
  return dir;
}

/** Empties the pipeline's cache. A build running now keeps the old one (moved aside first). */
export async function clearBuildCache(dataDir: string, pipelineId: string): Promise<void> {
  const dir = buildCacheDir(dataDir, pipelineId);
  const aside = join(dataDir, CACHES, `.cleared-${pipelineId}-${randomBytes(4).toString('hex')}`);
  try {
    await rename(dir, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  await rm(aside, { recursive: true, force: true, maxRetries: 3 });
}
