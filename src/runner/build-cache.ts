// The pipeline's build cache (Cloud Manager's "pipeline cache"): what package managers download
// during a build, kept between the builds of ONE pipeline under <data>/caches/<pipelineId>/.
// The build sandbox gets it as a writable directory; `DELETE …/pipeline/:id/cache` empties it,
// so the next build starts cold. Its content is written by repository code: only later builds
// of the same pipeline, inside the sandbox, ever read it.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

const CACHES = 'caches';

export function buildCacheDir(dataDir: string, pipelineId: string): string {
  // Ids come from the store (digits); anything else must never become a path.
  if (!/^[A-Za-z0-9_-]+$/.test(pipelineId)) throw new Error(`invalid pipeline id for a cache: ${pipelineId}`);
  return join(dataDir, CACHES, pipelineId);
}

/**
 * Creates the pipeline's cache directory and returns it. The one place it is created: when
 * builds run as an unprivileged user, this is where it must become that user's.
 */
export async function prepareBuildCache(dataDir: string, pipelineId: string): Promise<string> {
  const dir = buildCacheDir(dataDir, pipelineId);
  // Synchronous: a build's fetch waits for it (see steps/build-checkout.ts freshWorkDirs).
  mkdirSync(join(dataDir, CACHES), { recursive: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
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
