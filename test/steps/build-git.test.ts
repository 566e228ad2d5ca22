import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchCommit, initCheckout, resolveBranch } from '../../src/runner/git.ts';

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
  it('resolves a branch to its commit and fetches exactly that commit, even after the branch moved', async () => {
    const first = await resolveBranch(url, 'main');
    expect(first).toBe(git(work, 'rev-parse', 'HEAD'));
    writeFileSync(join(work, 'a.txt'), 'two\n');
    git(work, 'commit', '--quiet', '-am', 'two');
    git(work, 'push', '--quiet', 'origin', 'HEAD:main');
    expect(await resolveBranch(url, 'main')).not.toBe(first);

    const dir = join(root, 'checkout');
    await initCheckout(dir);
    await fetchCommit(url, first, dir);
    expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('one\n');
    expect(git(dir, 'rev-parse', 'HEAD')).toBe(first);
  });

  it('fails clearly for a missing branch, a missing repository and a bad commit id', async () => {
    await expect(resolveBranch(url, 'nope')).rejects.toThrow(/branch "nope" not found/);
    await expect(resolveBranch(`file://${join(root, 'missing.git')}`, 'main')).rejects.toThrow(/git ls-remote failed/);
    await initCheckout(join(root, 'x'));
    await expect(fetchCommit(url, 'not-a-sha', join(root, 'x'))).rejects.toThrow(/not a commit id/);
    await expect(fetchCommit(url, 'f'.repeat(40), join(root, 'x'))).rejects.toThrow(/git fetch failed/);
  });
});
