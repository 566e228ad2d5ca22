// Scans a source tree: which files the contract's `sources` globs select, their lines of code,
// ESLint (sonarjs + security) findings and duplicated blocks. I/O lives here; the counting is
// in the pure modules next to it.
import { readFile, stat } from 'node:fs/promises';
import type { ScanIssue } from '../../domain/issues.ts';
import { globFiles } from '../../runner/reports/glob.ts';
import { resolveInWorkspace } from '../../runner/workspace-path.ts';
import { detectDuplication, type DuplicationResult } from './duplication.ts';
import { scanWithEslint, type EslintScanResult } from './eslint-scan.ts';
import { countPhysicalLines, linesOfCode, tokenize } from './tokens.ts';

/** Bigger files are almost always generated or minified bundles; Sonar skips those too. */
export const MAX_SOURCE_BYTES = 1024 * 1024;
const LINTABLE = /\.(?:[cm]?[jt]s|[jt]sx)$/i;

export interface SourceScan {
  files: string[];
  skippedLargeFiles: string[];
  linesOfCode: number;
  physicalLines: number;
  issues: ScanIssue[];
  parseErrors: EslintScanResult['parseErrors'];
  duplication: DuplicationResult;
}

export async function scanSources(rootDir: string, patterns: string[]): Promise<SourceScan> {
  const matched = await globFiles(rootDir, patterns);
  const files: string[] = [];
  const skippedLargeFiles: string[] = [];
  const contents: { file: string; content: string }[] = [];
  for (const file of matched) {
    // The glob walk lists regular files only; resolving them still keeps every read inside.
    const path = await resolveInWorkspace(rootDir, file);
    if (path === undefined) continue;
    if ((await stat(path)).size > MAX_SOURCE_BYTES) { skippedLargeFiles.push(file); continue; }
    files.push(file);
    contents.push({ file, content: await readFile(path, 'utf8') });
  }
  let loc = 0;
  let physicalLines = 0;
  for (const { content } of contents) {
    loc += linesOfCode(tokenize(content));
    physicalLines += countPhysicalLines(content);
  }
  const eslint = await scanWithEslint(rootDir, files.filter((f) => LINTABLE.test(f)));
  return {
    files,
    skippedLargeFiles,
    linesOfCode: loc,
    physicalLines,
    issues: eslint.issues,
    parseErrors: eslint.parseErrors,
    duplication: await detectDuplication(contents),
  };
}
