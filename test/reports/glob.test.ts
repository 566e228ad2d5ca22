import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expandBraces, globFiles, globMatcher, listFiles, listFilesFor, matchFiles } from '../../src/runner/reports/glob.ts';

describe('glob', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'slipway-glob-'));
    for (const f of ['src/a.js', 'src/b.ts', 'src/deep/c.mjs', 'src/deep/er/d.js', 'src/x.css', 'reports/junit/t.xml',
      'reports/junit/t.json', 'coverage/lcov.info', 'node_modules/m/index.js', 'src/node_modules/n.js', '.git/HEAD']) {
      mkdirSync(dirname(join(dir, f)), { recursive: true });
      writeFileSync(join(dir, f), 'x');
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('expands braces, nested too', () => {
    expect(expandBraces('src/**/*.{js,mjs,ts}')).toEqual(['src/**/*.js', 'src/**/*.mjs', 'src/**/*.ts']);
    expect(expandBraces('{a,b{c,d}}/x')).toEqual(['a/x', 'bc/x', 'bd/x']);
    expect(expandBraces('no{brace')).toEqual(['no{brace']);
  });

  it('matches *, ?, ** and literal dots', () => {
    const m = globMatcher(['src/**/*.js', 'a?.txt']);
    expect(m('src/a.js')).toBe(true);
    expect(m('src/x/y/a.js')).toBe(true);
    expect(m('src/ajs')).toBe(false);
    expect(m('lib/a.js')).toBe(false);
    expect(m('ab.txt')).toBe(true);
    expect(m('abc.txt')).toBe(false);
    expect(globMatcher(['**'])('any/thing')).toBe(true);
    expect(globMatcher(['./coverage/*.info'])('coverage/lcov.info')).toBe(true);
  });

  it('lists matching files, sorted, skipping node_modules and .git', async () => {
    expect(await globFiles(dir, ['src/**/*.{js,mjs,ts}'])).toEqual(['src/a.js', 'src/b.ts', 'src/deep/c.mjs', 'src/deep/er/d.js']);
    expect(await globFiles(dir, ['reports/junit/*.xml', 'coverage/lcov.info'])).toEqual(['coverage/lcov.info', 'reports/junit/t.xml']);
    expect(await globFiles(join(dir, 'missing'), ['**'])).toEqual([]);
    expect(await globFiles(dir, [])).toEqual([]);
  });

  it('walks only the directories the globs start in, finding what a walk of the whole tree finds', async () => {
    const globs = [['reports/junit/*.xml', 'coverage/lcov.info'], ['src/deep/**'], ['**/*.xml'], ['*.txt', 'src/{deep,x}/*.js'],
      ['node_modules/m/*.js', 'src/node_modules/*.js', '.git/*'], ['../*/src/a.js', 'src/../src/a.js', './src/*.js', 'src//a.js']];
    const all = await listFiles(dir);
    for (const patterns of globs) {
      expect(matchFiles(await listFilesFor(dir, patterns), patterns)).toEqual(matchFiles(all, patterns));
    }
    // Only under the bases: src/ is not listed for reports and coverage.
    expect((await listFilesFor(dir, ['reports/junit/*.xml', 'coverage/lcov.info'])).sort()).toEqual(['coverage/lcov.info', 'reports/junit/t.json', 'reports/junit/t.xml']);
  });

  it('never walks a base through a symlink (a walk of the whole tree does not follow one either)', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'slipway-glob-outside-'));
    try {
      mkdirSync(join(outside, 'junit'));
      writeFileSync(join(outside, 'junit', 'secret.xml'), 'x');
      symlinkSync(outside, join(dir, 'linked'));
      expect(await listFilesFor(dir, ['linked/junit/*.xml'])).toEqual([]);
      expect(await globFiles(dir, ['linked/**'])).toEqual([]);
    } finally {
      rmSync(join(dir, 'linked'), { force: true });
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('a hostile glob from a repository cannot stall the matcher or exhaust memory', () => {
    // With backtracking regexes each extra `**/` multiplies the work on a non-matching path.
    const deep = globMatcher([`${'**/'.repeat(30)}${'*a'.repeat(20)}b`]);
    expect(deep(`${'a/'.repeat(200)}${'a'.repeat(5000)}`)).toBe(false);
    expect(deep('x/aaaaaaaaaaaaaaaaaaaab')).toBe(true);
    expect(() => globMatcher(['{a,b}'.repeat(30)])).toThrow(/more than 1000 \{a,b\} alternatives/);
  });
});

