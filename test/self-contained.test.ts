// A fresh clone must pass its own tests: no test, script, benchmark or source file reaches a
// path outside the repository (such as a ../shared checkout beside it).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DIRS = ['src', 'test', 'bench', 'scripts'];
const CODE = /\.(ts|js|mjs|cjs|sh)$/;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : files(path);
    return CODE.test(e.name) ? [path] : [];
  });
}

/** Relative path literals ('../x', "../../y") that climb out of the repository from `file`. */
function escapingPaths(file: string, text: string, root = ROOT): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/['"`]((?:\.\.\/)+[^'"`\s]*)['"`]/g)) {
    const target = resolve(dirname(file), m[1] as string);
    if (relative(root, target).startsWith('..')) found.push(m[1] as string);
  }
  return found;
}

describe('the repository is self-contained', () => {
  it('flags a path that climbs out of the repository', () => {
    expect(escapingPaths(join(ROOT, 'test/api/x.ts'), "new URL('../../../shared/fixtures', import.meta.url)")).toEqual(['../../../shared/fixtures']);
    expect(escapingPaths(join(ROOT, 'test/api/x.ts'), "new URL('../fixtures/cloud-manager', import.meta.url)")).toEqual([]);
  });

  it('no file in src, test, bench or scripts reads outside the repository', () => {
    const self = fileURLToPath(import.meta.url); // its examples above escape on purpose
    const offenders = DIRS.flatMap((d) => files(join(ROOT, d))).filter((f) => f !== self).flatMap((file) => {
      const text = readFileSync(file, 'utf8');
      const hits = [...escapingPaths(file, text), ...(text.match(/\/work\/shared/g) ?? [])];
      return hits.map((h) => `${relative(ROOT, file)}: ${h}`);
    });
    expect(offenders).toEqual([]);
  });
});
