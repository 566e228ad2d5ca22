// Test support: real git repositories holding the sample site (examples/sample-site), in its
// default shape or changed by a variant that makes one pipeline step fail or change. Commits are
// reproducible: fixed author, committer and dates, no user or system git configuration.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { applyVariants } from './sample-variants.ts';
import type { SampleVariant } from './sample-variants.ts';

export { SAMPLE_VARIANTS, applyVariants } from './sample-variants.ts';
export type { SampleVariant } from './sample-variants.ts';

const run = promisify(execFile);

/** Absolute path of the sample site in this repository. */
export const SAMPLE_SITE_DIR = fileURLToPath(new URL('../../examples/sample-site', import.meta.url));

/** Build outputs and local results that never belong in the repository. */
const EXCLUDED = new Set(['node_modules', 'dist', 'reports', 'coverage', '.git']);

const FIRST_COMMIT_DATE = Date.parse('2026-01-01T09:00:00Z');

const GIT_ENV: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  HOME: tmpdir(),
  LANG: 'C',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_TERMINAL_PROMPT: '0',
  GIT_AUTHOR_NAME: 'Sample Author',
  GIT_AUTHOR_EMAIL: 'author@sample-site.invalid',
  GIT_COMMITTER_NAME: 'Sample Committer',
  GIT_COMMITTER_EMAIL: 'committer@sample-site.invalid',
};

export interface SampleRepo {
  /** file:// URL of the bare repository (clone/fetch source). */
  url: string;
  branch: 'main';
  /** Head commit of `main`. */
  commit: string;
  /** The bare repository and the non-bare work tree it was cloned from. */
  bareDir: string;
  workDir: string;
}

async function git(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const { stdout } = await run('git', args, { cwd, env: { ...GIT_ENV, ...env }, maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim();
}

/** Copies the sample site (without build outputs) into `target`, then applies the variants. */
export async function copySampleSite(target: string, variant: SampleVariant | SampleVariant[] = 'default'): Promise<void> {
  await mkdir(target, { recursive: true });
  await cp(SAMPLE_SITE_DIR, target, {
    recursive: true,
    filter: (source) => source === SAMPLE_SITE_DIR || !EXCLUDED.has(basename(source)),
  });
  await applyVariants(target, variant);
}

function variantLabel(variant: SampleVariant | SampleVariant[]): string {
  return (Array.isArray(variant) ? variant : [variant]).join(' + ');
}

/** Commits everything in `workDir` on `main`; the n-th commit is dated n hours after the first. */
async function commitAll(workDir: string, message: string): Promise<string> {
  const count = Number(await git(workDir, ['rev-list', '--count', '--all']).catch(() => '0')) || 0;
  const date = new Date(FIRST_COMMIT_DATE + count * 3_600_000).toISOString();
  await git(workDir, ['add', '--all']);
  await git(workDir, ['commit', '--quiet', '--allow-empty', '--no-gpg-sign', '-m', message],
    { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date });
  return git(workDir, ['rev-parse', 'HEAD']);
}

/**
 * Creates `dir/work` (a work tree with the sample site, variant applied, committed on `main`)
 * and `dir/sample.git` (a bare clone of it, the work tree's `origin`). Same variant, same commit id.
 */
export async function makeSampleRepo(dir: string, variant: SampleVariant | SampleVariant[] = 'default'): Promise<SampleRepo> {
  const workDir = resolve(dir, 'work');
  const bareDir = resolve(dir, 'sample.git');
  await copySampleSite(workDir, variant);
  await git(workDir, ['init', '--quiet', '--initial-branch=main']);
  const commit = await commitAll(workDir, `Sample site (${variantLabel(variant)})`);
  await git(dir, ['clone', '--quiet', '--bare', workDir, bareDir]);
  const url = pathToFileURL(bareDir).href;
  await git(workDir, ['remote', 'add', 'origin', url]);
  await git(workDir, ['fetch', '--quiet', 'origin']);
  await git(workDir, ['branch', '--quiet', '--set-upstream-to=origin/main', 'main']);
  return { url, branch: 'main', commit, bareDir, workDir };
}

/** Replaces everything but .git with the pristine sample site plus the variants. */
async function resetToSample(workDir: string, variant: SampleVariant | SampleVariant[]): Promise<void> {
  for (const entry of await readdir(workDir)) {
    if (entry !== '.git') await rm(join(workDir, entry), { recursive: true, force: true });
  }
  await copySampleSite(workDir, variant);
}

function toPath(repoUrlOrDir: string): string {
  return repoUrlOrDir.startsWith('file://') ? fileURLToPath(repoUrlOrDir) : resolve(repoUrlOrDir);
}

/**
 * Pushes a new commit on `main` whose tree is the pristine sample site plus `variant` (so
 * `commitChange(repo, 'default')` undoes an earlier variant). Accepts the file:// URL or path of
 * the bare repository, the directory given to makeSampleRepo, or a work tree: a work tree with an
 * `origin` is synchronised and pushed, one without is committed in place.
 */
export async function commitChange(
  repoUrlOrDir: string,
  variant: SampleVariant | SampleVariant[] = 'default',
  message = `Change: ${variantLabel(variant)}`,
): Promise<{ url: string; branch: 'main'; commit: string }> {
  let path = toPath(repoUrlOrDir);
  if (existsSync(join(path, 'sample.git', 'HEAD'))) path = join(path, 'sample.git');

  if (existsSync(join(path, '.git'))) {
    const origin = await git(path, ['remote', 'get-url', 'origin']).catch(() => '');
    if (!origin) {
      await resetToSample(path, variant);
      return { url: pathToFileURL(path).href, branch: 'main', commit: await commitAll(path, message) };
    }
    await git(path, ['fetch', '--quiet', 'origin']);
    await git(path, ['reset', '--quiet', '--hard', 'origin/main']);
    await resetToSample(path, variant);
    const commit = await commitAll(path, message);
    await git(path, ['push', '--quiet', 'origin', 'main']);
    return { url: origin, branch: 'main', commit };
  }

  // A bare repository: commit through a temporary clone.
  const scratch = await mkdtemp(join(tmpdir(), 'sample-change-'));
  try {
    const url = pathToFileURL(path).href;
    const clone = join(scratch, 'clone');
    await git(scratch, ['clone', '--quiet', '--branch', 'main', url, clone]);
    await resetToSample(clone, variant);
    const commit = await commitAll(clone, message);
    await git(clone, ['push', '--quiet', 'origin', 'main']);
    return { url, branch: 'main', commit };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
