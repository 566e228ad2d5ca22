// Validate fetches and checks out the commit it checks and keeps it for the build
// (runner/fetched-commit.ts): the build takes that work tree whole and builds exactly that commit
// without fetching again, however the branch moved since; a work tree from before a reboot is
// checked out anew from its repository; a kept repository that cannot be used, or none, makes
// the build fetch the branch itself. Real git, a real sandboxed build.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unpackImage } from '../../src/artifacts/oci.ts';
import { fetchCommit, findFetchedCommit } from '../../src/runner/fetched-commit.ts';
import { buildHandler } from '../../src/steps/build.ts';
import { makeValidateHandler } from '../../src/steps/validate.ts';
import { testHandlers } from '../support/engine-handlers.ts';
import { makeStepContext, type TestStepContext } from '../support/step-context.ts';

let root: string;
let url: string;
let work: string;
const git = (cwd: string, ...args: string[]): string =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@x', ...args], { cwd, encoding: 'utf8' }).trim();

/** Commits `text` as version.txt on main; the build copies it into its output. */
function push(text: string): string {
  writeFileSync(join(work, 'version.txt'), text);
  git(work, 'add', '-A');
  git(work, 'commit', '--quiet', '-m', text);
  git(work, 'push', '--quiet', url, 'HEAD:main');
  return git(work, 'rev-parse', 'HEAD');
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'slipway-fetched-'));
  git(root, 'init', '--quiet', '--bare', '-b', 'main', 'site.git');
  url = `file://${join(root, 'site.git')}`;
  work = join(root, 'work');
  mkdirSync(work);
  git(work, 'init', '--quiet', '-b', 'main');
  writeFileSync(join(work, 'slipway.yaml'), 'build:\n  command: mkdir -p dist && cp version.txt dist/\napp:\n  output: dist\n');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Two steps of one execution: the same data dir and execution dir, each its own work dir. */
function executionSteps(): { validateCtx: TestStepContext; buildCtx: TestStepContext; executionDir: string; cleanup(): void } {
  const dataDir = mkdtempSync(join(tmpdir(), 'slipway-data-'));
  const executionDir = join(dataDir, 'work', '42');
  const validateCtx = makeStepContext({ dataDir, workDir: join(executionDir, 'v-1') });
  const buildCtx = makeStepContext({ dataDir, workDir: join(executionDir, 'b-1') });
  for (const ctx of [validateCtx, buildCtx]) ctx.repository.url = url;
  return { validateCtx, buildCtx, executionDir, cleanup: () => rmSync(dataDir, { recursive: true, force: true }) };
}

/** Validate, with the pipeline's environments ready (stage, and production on two pairs). */
const validate = makeValidateHandler({
  handlers: () => testHandlers(),
  environment: async (id) => ({
    id, programId: '7', name: `site-${id}`, description: '', type: id === '21' ? 'stage' : 'prod', status: 'ready', region: 'local',
    settings: { publishCount: 2 }, createdAt: new Date(0), updatedAt: new Date(0),
  }),
});

async function builtVersion(ctx: TestStepContext): Promise<string> {
  const output = ctx.recorded.find((a) => a.type === 'BUILD_OUTPUT');
  const dir = join(ctx.workDir, 'unpacked');
  await unpackImage(ctx.artifacts, output?.digest ?? '', dir);
  return execFileSync('cat', [join(dir, 'version.txt')], { encoding: 'utf8' });
}

describe('the commit validate fetched', () => {
  it('is the one the build builds, without fetching again, after the branch moved', async () => {
    const checked = push('one');
    const steps = executionSteps();
    try {
      expect((await validate.run(steps.validateCtx)).outcome, steps.validateCtx.log.text()).toBe('finished');
      const kept = findFetchedCommit(steps.executionDir);
      expect(kept).toMatchObject({ commit: checked, checkedOut: true });
      const keptInode = statSync(kept?.dir ?? '').ino;
      push('two'); // the branch moves between validate and build

      const result = await buildHandler.run(steps.buildCtx);
      expect(result.outcome, steps.buildCtx.log.text() + JSON.stringify(result)).toBe('finished');
      expect(steps.buildCtx.details.commitId).toBe(checked);
      expect(await builtVersion(steps.buildCtx)).toBe('one');
      expect(steps.buildCtx.log.text()).toContain(`Checking out commit ${checked}, as validate fetched it`);
      expect(steps.buildCtx.log.text()).not.toContain('Fetching branch');
      // Taken whole as the build's workspace (no second checkout): the execution keeps no copy.
      expect(statSync(join(steps.buildCtx.workDir, 'workspace')).ino).toBe(keptInode);
      expect(findFetchedCommit(steps.executionDir)).toBeUndefined();
    } finally {
      steps.cleanup();
    }
  });

  it('checked out before a reboot: its files are not trusted, its repository is checked out anew', async () => {
    const checked = push('seven');
    const steps = executionSteps();
    try {
      expect((await validate.run(steps.validateCtx)).outcome).toBe('finished');
      const dir = findFetchedCommit(steps.executionDir)?.dir ?? '';
      writeFileSync(join(dir, '.git', 'slipway-boot-id'), 'another-boot');
      writeFileSync(join(dir, 'version.txt'), 'lost in the crash'); // what a crash may leave of an unsynced file
      expect(findFetchedCommit(steps.executionDir)?.checkedOut).toBe(false);

      const result = await buildHandler.run(steps.buildCtx);
      expect(result.outcome, steps.buildCtx.log.text() + JSON.stringify(result)).toBe('finished');
      expect(steps.buildCtx.details.commitId).toBe(checked);
      expect(await builtVersion(steps.buildCtx)).toBe('seven');
      expect(steps.buildCtx.log.text()).not.toContain('Fetching branch');
      expect(findFetchedCommit(steps.executionDir)).toBeUndefined();
    } finally {
      steps.cleanup();
    }
  });

  it('that cannot be checked out (from before a reboot, its pack lost): the build fetches the branch and builds its tip', async () => {
    push('three');
    const steps = executionSteps();
    try {
      expect((await validate.run(steps.validateCtx)).outcome).toBe('finished');
      const kept = findFetchedCommit(steps.executionDir);
      writeFileSync(join(kept?.dir ?? '', '.git', 'slipway-boot-id'), 'another-boot');
      rmSync(join(kept?.dir ?? '', '.git', 'objects', 'pack'), { recursive: true });
      const tip = push('four');

      const result = await buildHandler.run(steps.buildCtx);
      expect(result.outcome, steps.buildCtx.log.text() + JSON.stringify(result)).toBe('finished');
      expect(steps.buildCtx.log.text()).toMatch(/could not be checked out .*: the branch is fetched instead/);
      expect(steps.buildCtx.details.commitId).toBe(tip);
      expect(await builtVersion(steps.buildCtx)).toBe('four');
    } finally {
      steps.cleanup();
    }
  });

  it('is kept only when its use succeeds, and only the last one', async () => {
    const first = push('five');
    const dir = mkdtempSync(join(tmpdir(), 'slipway-execution-'));
    try {
      await expect(fetchCommit(url, first, dir, async () => { throw new Error('unreadable'); })).rejects.toThrow('unreadable');
      expect(readdirSync(dir)).toEqual([]);

      expect(await fetchCommit(url, first, dir, async (tree) => existsSync(join(tree, '.git', 'shallow')) && existsSync(join(tree, 'version.txt')))).toBe(true);
      const second = push('six');
      await fetchCommit(url, second, dir, async () => undefined);
      expect(readdirSync(dir)).toEqual([`commit-${second}`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
