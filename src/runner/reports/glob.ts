// A tiny glob → files helper (Node 20 has no fs.glob). Supports `*` (within one path segment),
// `?`, `**` (any number of segments, including none) and `{a,b}` alternatives. Paths are
// matched relative to the base directory with forward slashes; `.git` and `node_modules` are
// never descended into, since reports and sources never live there.
// Globs come from the repository, so they become linear-time patterns (domain/patterns.ts):
// `**/**/**/…/x` against a long path cannot make the matcher backtrack for ever.
// The walks use the synchronous calls, as the images' walk does (artifacts/oci.ts): a build's
// end waits for them, when the event loop is busiest (its outputs being packed) and each hop
// through it costs more than the call; they yield after SLICE_MS of a big tree.
import { lstatSync, readdirSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { compilePattern, type RepositoryPattern } from '../../domain/patterns.ts';

const SKIPPED_DIRS = new Set(['.git', 'node_modules']);

/** More alternatives than this is a glob built to exhaust memory ({a,b}{a,b}… doubles each time). */
export const MAX_BRACE_EXPANSIONS = 1000;

/** Expands `{a,b}` alternatives (nested allowed) into plain patterns. */
export function expandBraces(pattern: string): string[] {
  const open = pattern.indexOf('{');
  if (open < 0) return [pattern];
  let depth = 0;
  let close = -1;
  const commas: number[] = [];
  for (let i = open; i < pattern.length; i += 1) {
    const c = pattern[i];
    if (c === '{') depth += 1;
    else if (c === '}') { depth -= 1; if (depth === 0) { close = i; break; } }
    else if (c === ',' && depth === 1) commas.push(i);
  }
  if (close < 0) return [pattern]; // unbalanced: treat literally
  const head = pattern.slice(0, open);
  const tail = pattern.slice(close + 1);
  const bounds = [open, ...commas, close];
  const out: string[] = [];
  for (let i = 0; i + 1 < bounds.length; i += 1) {
    const part = pattern.slice((bounds[i] ?? 0) + 1, bounds[i + 1]);
    for (const expanded of expandBraces(head + part + tail)) out.push(expanded);
    if (out.length > MAX_BRACE_EXPANSIONS) throw new Error(`glob ${pattern} has more than ${MAX_BRACE_EXPANSIONS} {a,b} alternatives`);
  }
  return out;
}

function escapeRegex(text: string): string {
  return text.replace(/[.+^${}()|[\]\\]/g, '\\$&');
}

/** A brace-free glob as a regular expression over a relative forward-slash path. */
function globToRegex(pattern: string): RepositoryPattern {
  const segments = pattern.replace(/^\.\//, '').split('/');
  let source = '';
  segments.forEach((segment, index) => {
    const last = index === segments.length - 1;
    if (segment === '**') {
      source += last ? '.*' : '(?:[^/]+/)*';
      return;
    }
    source += segment.split('').map((c) => (c === '*' ? '[^/]*' : c === '?' ? '[^/]' : escapeRegex(c))).join('');
    if (!last) source += '/';
  });
  return compilePattern(`^${source}$`);
}

export function globMatcher(patterns: string[]): (relativePath: string) => boolean {
  const regexes = patterns.flatMap(expandBraces).map(globToRegex);
  return (relativePath) => regexes.some((r) => r.test(relativePath));
}

const SLICE_MS = 10;

/** The files under `relative` in `baseDir` (but in .git and node_modules), added to `out`. */
async function walk(baseDir: string, relative: string, out: string[]): Promise<void> {
  let sliceStart = performance.now();
  const dirs = [relative];
  for (let dir = dirs.pop(); dir !== undefined; dir = dirs.pop()) {
    let entries: Dirent[];
    try {
      entries = readdirSync(join(baseDir, dir), { withFileTypes: true });
    } catch {
      continue; // a missing base directory simply matches nothing
    }
    for (const entry of entries) {
      const path = dir ? `${dir}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name)) dirs.push(path);
      } else if (entry.isFile()) {
        out.push(path);
      }
    }
    if (performance.now() - sliceStart > SLICE_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
  }
}

/** Every file under `baseDir` (but in .git and node_modules), as relative paths: for several globs at once. */
export async function listFiles(baseDir: string): Promise<string[]> {
  const all: string[] = [];
  await walk(baseDir, '', all);
  return all;
}

/**
 * The directory a brace-free glob's matches all lie in: its leading segments without wildcards
 * ('reports/junit' of 'reports/junit/*.xml'; '' for '**' or '*.xml'). Undefined for a glob
 * nothing listed can match: a '.', '..' or empty segment (listed paths have none).
 */
function literalBase(pattern: string): string | undefined {
  const segments = pattern.replace(/^\.\//, '').split('/');
  const base: string[] = [];
  for (const segment of segments.slice(0, -1)) {
    if (segment === '' || segment === '.' || segment === '..') return undefined;
    if (/[*?]/.test(segment)) break;
    base.push(segment);
  }
  return base.join('/');
}

/** A base is walked as listFiles would reach it: each of its segments a directory (no symlink) it descends into. */
function walkable(baseDir: string, base: string): boolean {
  const segments = base.split('/');
  for (let i = 1; i <= segments.length; i++) {
    if (SKIPPED_DIRS.has(segments[i - 1] ?? '')) return false;
    try {
      if (!lstatSync(join(baseDir, ...segments.slice(0, i))).isDirectory()) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * The files of listFiles(baseDir) that `patterns` may match, walking only the directories their
 * matches lie in (a build's reports: reports/ and coverage/, not the whole workspace).
 */
export async function listFilesFor(baseDir: string, patterns: string[]): Promise<string[]> {
  const bases = [...new Set(patterns.flatMap(expandBraces).map(literalBase).filter((b) => b !== undefined))];
  // A base inside another is walked with it.
  const outer = bases.filter((b) => !bases.some((o) => o !== b && (o === '' || b.startsWith(`${o}/`))));
  const lists = await Promise.all(outer.map(async (base) => {
    const files: string[] = [];
    if (base === '' || walkable(baseDir, base)) await walk(baseDir, base, files);
    return files;
  }));
  return lists.flat();
}

/** The files of `files` (relative paths) matching any of `patterns`, sorted. */
export function matchFiles(files: string[], patterns: string[]): string[] {
  if (patterns.length === 0) return [];
  return files.filter(globMatcher(patterns)).sort();
}

/** Files under `baseDir` matching any of `patterns`, as sorted relative paths. */
export async function globFiles(baseDir: string, patterns: string[]): Promise<string[]> {
  if (patterns.length === 0) return [];
  return matchFiles(await listFilesFor(baseDir, patterns), patterns);
}
