import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchBranch, initRepository, resolveBranch } from '../../src/runner/git.ts';

let root: string;
let url: string;
let work: string;
const git = (cwd: string, ...args: string[]): string =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd, encoding: 'utf8' }).trim();

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'slipway-git-'));
  git(root, 'init', '--quiet', '--bare', '-b', 'main', 'src.git');
  url = `file://${join(root, 'src.git')}`;
  work = join(root, 'work');
  git(root, 'clone', '--quiet', url, 'work');
  writeFileSync(join(work, 'a.txt'), 'one\n');
  git(work, 'add', '.');
  git(work, 'commit', '--quiet', '-m', 'one');
  git(work, 'push', '--quiet', 'origin', 'HEAD:main');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('git helpers', () => {
  it('resolves a branch to its commit; a fetch of the branch checks out its tip and names that commit', async () => {
    const first = await resolveBranch(url, 'main');
    expect(first).toBe(git(work, 'rev-parse', 'HEAD'));
    const dir = join(root, 'checkout');
    initRepository(dir);
    expect(await fetchBranch(url, 'main', dir)).toBe(first);
    expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('one\n');
    expect(git(dir, 'rev-parse', 'HEAD')).toBe(first);

    writeFileSync(join(work, 'a.txt'), 'two\n');
    git(work, 'commit', '--quiet', '-am', 'two');
    git(work, 'push', '--quiet', 'origin', 'HEAD:main');
    const second = await resolveBranch(url, 'main');
    expect(second).not.toBe(first);
    const again = join(root, 'checkout-2');
    initRepository(again);
    expect(await fetchBranch(url, 'refs/heads/main', again)).toBe(second);
    expect(readFileSync(join(again, 'a.txt'), 'utf8')).toBe('two\n');
    // Depth 1: the one commit, no history, no tags.
    expect(git(again, 'rev-list', '--count', 'HEAD')).toBe('1');
  });

  it('makes the same empty repository as git init --template= and --bare (without a git process)', async () => {
    for (const bare of [false, true]) {
      const ours = join(root, `init-ours-${bare}`);
      const theirs = join(root, `init-git-${bare}`);
      initRepository(ours, { bare });
      // (HEAD names a branch that never gets a commit: the fetched one is checked out detached.)
      git(root, '-c', 'init.defaultBranch=master', 'init', '--quiet', ...(bare ? ['--bare'] : []), '--template=', theirs);
      const gitDir = (dir: string): string => (bare ? dir : join(dir, '.git'));
      const tree = (dir: string): string[] => execFileSync('find', ['.', '-printf', '%y %m %p\\n'], { cwd: gitDir(dir), encoding: 'utf8' }).split('\n').sort();
      expect(tree(ours)).toEqual(tree(theirs));
      for (const file of ['HEAD', 'config']) expect(readFileSync(join(gitDir(ours), file), 'utf8')).toBe(readFileSync(join(gitDir(theirs), file), 'utf8'));
      // It never overwrites a repository.
      expect(() => initRepository(ours, { bare })).toThrow(/EEXIST/);
    }
  });

  it('fails clearly for a missing branch and a missing repository', async () => {
    await expect(resolveBranch(url, 'nope')).rejects.toThrow(/branch "nope" not found/);
    await expect(resolveBranch(`file://${join(root, 'missing.git')}`, 'main')).rejects.toThrow(/git ls-remote failed/);
    initRepository(join(root, 'x'));
    await expect(fetchBranch(url, 'nope', join(root, 'x'))).rejects.toThrow(/branch "nope" not found/);
    await expect(fetchBranch(`file://${join(root, 'missing.git')}`, 'main', join(root, 'x'))).rejects.toThrow(/git fetch failed/);
  });
});
