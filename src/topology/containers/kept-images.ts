// Which app images podman's storage keeps for the container driver's environments: what each
// node runs (the state file), the release a deploy is bringing in, and the last KEPT_RELEASES
// releases each environment settled on. A file per environment (<envDir>/podman-images.json)
// records the last two, so every Slipway process sharing the data dir sees what the others keep.
import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadState } from '../local/state.ts';

/**
 * The current release and the one before it. WHY two: a rollback (redeploying the previous
 * release, a re-execution of the last good one) then starts its containers at once, without
 * loading a whole image again; anything older is rare enough to pay for that load (it still
 * works: the store holds every image, and ensure() loads a pruned one again).
 */
export const KEPT_RELEASES = 2;

const RECORD = 'podman-images.json';

interface ImageRecord {
  /** App image digests of the last settled releases, newest first. */
  recent: string[];
  /** The app image a deploy under way is bringing in (loaded before any container uses it). */
  deploying?: string;
}

async function readRecord(envDir: string): Promise<ImageRecord> {
  try {
    return JSON.parse(await readFile(join(envDir, RECORD), 'utf8')) as ImageRecord;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { recent: [] };
    throw err;
  }
}

async function writeRecord(envDir: string, record: ImageRecord): Promise<void> {
  const file = join(envDir, RECORD);
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, `${JSON.stringify(record)}\n`);
  await rename(tmp, file);
}

/** A deploy of `appImage` starts: kept until it ends, although no container runs it yet. */
export async function recordDeploying(envDir: string, appImage: string): Promise<void> {
  await writeRecord(envDir, { ...await readRecord(envDir), deploying: appImage }).catch((err: unknown) => {
    // No environment there: the deploy itself says it is not provisioned.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  });
}

/** The deploy ended; `deployed` is its app image when every node now runs it. */
export async function recordSettled(envDir: string, deployed: string | undefined): Promise<void> {
  const { recent } = await readRecord(envDir);
  const next = deployed ? [deployed, ...recent.filter((d) => d !== deployed)].slice(0, KEPT_RELEASES) : recent;
  await writeRecord(envDir, { recent: next });
}

/**
 * Every app image some environment under `environmentsDir` keeps. A record or state that cannot
 * be read is thrown: without it, what that environment keeps is unknown, so nothing is pruned.
 */
export async function keptImages(environmentsDir: string): Promise<Set<string>> {
  const kept = new Set<string>();
  const dirs = await readdir(environmentsDir, { withFileTypes: true }).catch(() => []);
  for (const entry of dirs.filter((d) => d.isDirectory())) {
    const envDir = join(environmentsDir, entry.name);
    const [record, state] = await Promise.all([readRecord(envDir), loadState(envDir)]);
    for (const digest of [...record.recent, record.deploying]) if (digest) kept.add(digest);
    for (const node of state ? [state.author, ...state.publish] : []) if (node.release) kept.add(node.release.appImage);
  }
  return kept;
}
