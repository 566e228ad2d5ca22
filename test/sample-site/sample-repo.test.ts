// test/support/sample-repo.ts: real git repositories of the sample site, reproducible commits,
// every variant applicable, and follow-up commits pushed to the bare repository.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { SAMPLE_VARIANTS, commitChange, makeSampleRepo } from '../support/sample-repo.ts';
import { cleanUp, sampleCopy, tempDir } from './harness.ts';

const execFileAsync = promisify(execFile);
const git = async (cwd: string, ...args: string[]) => (await execFileAsync('git', args, { cwd })).stdout.trim();

afterAll(cleanUp);

describe('makeSampleRepo', () => {
  it('creates a bare file:// repository on main with a reproducible commit', async () => {
    const [a, b] = await Promise.all([makeSampleRepo(await tempDir('repo-a-')), makeSampleRepo(await tempDir('repo-b-'))]);
    expect(a.url).toMatch(/^file:\/\/.+\/sample\.git$/);
    expect(a.branch).toBe('main');
    expect(a.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(b.commit).toBe(a.commit);
    expect(await git(a.bareDir, 'rev-parse', '--is-bare-repository')).toBe('true');

    const clone = join(await tempDir('clone-'), 'c');
    await execFileAsync('git', ['clone', '--quiet', '--depth', '1', '--branch', 'main', a.url, clone]);
    expect(await git(clone, 'rev-parse', 'HEAD')).toBe(a.commit);
    expect(existsSync(join(clone, 'slipway.yaml'))).toBe(true);
    expect(existsSync(join(clone, 'tests/ui/testing.properties'))).toBe(true);
    for (const excluded of ['node_modules', 'dist', 'reports', 'coverage']) expect(existsSync(join(clone, excluded))).toBe(false);
    expect(await git(clone, 'log', '-1', '--format=%an <%ae> %aI')).toBe('Sample Author <author@sample-site.invalid> 2026-01-01T09:00:00+00:00');
  });

  it('gives each variant its own commit', async () => {
    const base = await tempDir('repo-variants-');
    const commits = await Promise.all(SAMPLE_VARIANTS.map((v) => makeSampleRepo(join(base, v), v).then((r) => r.commit)));
    expect(new Set(commits).size).toBe(SAMPLE_VARIANTS.length);
  });
});

describe('variants', () => {
  it('noUiTests removes the opt-in file; newVersion bumps package.json and the lock', async () => {
    const dir = await sampleCopy(['noUiTests', 'newVersion']);
    expect(existsSync(join(dir, 'tests/ui/testing.properties'))).toBe(false);
    expect(existsSync(join(dir, 'tests/ui/run.mjs'))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))).toMatchObject({ version: '1.1.0' });
    expect(JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8'))).toMatchObject({ version: '1.1.0' });
  });

  it('heavierPage adds a large blocking script and image to the home page only', async () => {
    const dir = await sampleCopy('heavierPage');
    const pages = readFileSync(join(dir, 'src/pages.js'), 'utf8');
    expect(pages).toContain("scripts: ['/assets/vendor-bundle.js']");
    expect(readFileSync(join(dir, 'public/assets/vendor-bundle.js')).length).toBeGreaterThan(1_000_000);
    expect(readFileSync(join(dir, 'public/assets/panorama.svg')).length).toBeGreaterThan(500_000);
  });

  it('insecure drops the dispatcher deny of /admin; vulnerability adds eval and exec of request input', async () => {
    const insecure = await sampleCopy('insecure');
    const dispatcher = readFileSync(join(insecure, 'dispatcher/dispatcher.yaml'), 'utf8');
    expect(dispatcher).not.toContain("'^/admin'");
    expect(dispatcher).toContain("'^/author'");
    const vulnerable = readFileSync(join(await sampleCopy('vulnerability'), 'src/diagnostics.js'), 'utf8');
    expect(vulnerable).toMatch(/eval\(expression\)/);
    expect(vulnerable).toMatch(/exec\('ping -c 1 ' \+ host/);
  });
});

describe('commitChange', () => {
  it('pushes commits to the bare repository, from its URL, its directory or the work tree', async () => {
    const dir = await tempDir('repo-change-');
    const repo = await makeSampleRepo(dir);
    const tree = (rev: string) => git(repo.bareDir, 'rev-parse', `${rev}^{tree}`);

    const first = await commitChange(repo.url, 'newVersion');
    expect(first.url).toBe(repo.url);
    expect(await git(repo.bareDir, 'rev-parse', 'main')).toBe(first.commit);
    expect(await git(repo.bareDir, 'show', 'main:package.json')).toContain('"version": "1.1.0"');

    const second = await commitChange(repo.workDir, 'failingUnitTest');
    expect(await git(repo.bareDir, 'rev-parse', 'main')).toBe(second.commit);
    expect(await git(repo.bareDir, 'show', 'main:package.json')).toContain('"version": "1.0.0"'); // not cumulative

    const third = await commitChange(dir, 'default');
    expect(await git(repo.bareDir, 'rev-list', '--count', 'main')).toBe('4');
    expect(await tree(third.commit)).toBe(await tree(repo.commit)); // back to the pristine site
    expect(await git(repo.bareDir, 'log', '-1', '--format=%cI', 'main')).toBe('2026-01-01T12:00:00+00:00');
  });
});
