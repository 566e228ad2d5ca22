// Duplicated code, the way SonarQube counts it for non-Java languages: a block of at least 100
// tokens spread over at least 10 lines that occurs more than once (in one file or across files).
// duplicated_lines_density = duplicated lines / physical lines × 100.
//
// Detection is jscpd's (Rabin-Karp over its own per-language tokenizer); this module only feeds it
// exactly the files the scan selected and folds its clone pairs into Sonar's measures. The folding
// is pure (`summarizeClones`); `detectDuplication` is the I/O around it.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { basename, extname, join } from 'node:path';
import type * as Jscpd from 'jscpd';
import { countPhysicalLines } from './tokens.ts';

// jscpd 4.3's ESM build cannot be imported by Node: its bundle does
// `import { bold } from 'colors/safe'`, a CommonJS module without detectable named exports, so
// linking fails. Its CommonJS build works; load that one.
const { detectClones } = createRequire(import.meta.url)('jscpd') as typeof Jscpd;

export interface DuplicationOptions {
  minTokens: number;
  minLines: number;
}

export const SONAR_DUPLICATION: DuplicationOptions = { minTokens: 100, minLines: 10 };

export interface DuplicatedBlock {
  file: string;
  startLine: number;
  endLine: number;
}

export interface DuplicationResult {
  duplicatedLines: number;
  totalLines: number;
  /** Percent, one decimal. */
  density: number;
  /** Duplicated line ranges per file, overlapping and adjacent clones merged. */
  blocks: DuplicatedBlock[];
}

/** One side of a clone pair as jscpd reports it (file relative to the scanned root). */
export interface CloneSide {
  file: string;
  startLine: number;
  endLine: number;
}

/** Merges line ranges per file; each duplicated line counts once however many clones cover it. */
export function summarizeClones(
  sides: readonly CloneSide[],
  sources: readonly { file: string; content: string }[],
): DuplicationResult {
  const byFile = new Map<string, CloneSide[]>();
  for (const side of sides) {
    const ranges = byFile.get(side.file);
    if (ranges) ranges.push(side); else byFile.set(side.file, [side]);
  }

  const blocks: DuplicatedBlock[] = [];
  let duplicatedLines = 0;
  for (const [file, ranges] of [...byFile].sort(([a], [b]) => a.localeCompare(b))) {
    const sorted = [...ranges].sort((a, b) => a.startLine - b.startLine);
    let current: DuplicatedBlock | undefined;
    for (const { startLine, endLine } of sorted) {
      if (current && startLine <= current.endLine + 1) {
        current.endLine = Math.max(current.endLine, endLine);
        continue;
      }
      current = { file, startLine, endLine };
      blocks.push(current);
    }
  }
  for (const block of blocks) duplicatedLines += block.endLine - block.startLine + 1;

  const totalLines = sources.reduce((sum, { content }) => sum + countPhysicalLines(content), 0);
  const density = totalLines === 0 ? 0 : Math.round((duplicatedLines / totalLines) * 1000) / 10;
  return { duplicatedLines, totalLines, density, blocks };
}

/**
 * jscpd takes paths, not contents, and hands them to fast-glob as patterns, so a real file named
 * `app/[id]/page.tsx` would be read as a character class and silently missed. It therefore scans
 * a private temp copy of exactly the selected files under glob-safe names (`<index><ext>`), which
 * also guarantees it sees the same bytes the line total was computed from.
 */
export async function detectDuplication(
  sources: readonly { file: string; content: string }[],
  options: DuplicationOptions = SONAR_DUPLICATION,
): Promise<DuplicationResult> {
  if (sources.length === 0) return summarizeClones([], sources);
  const workDir = await mkdtemp(join(tmpdir(), 'slipway-cpd-'));
  try {
    await Promise.all(sources.map(({ file, content }, index) =>
      writeFile(join(workDir, `${index}${safeExtension(file)}`), content)));
    const clones = await detectClones({
      path: [workDir],
      absolute: true,
      minTokens: options.minTokens,
      // jscpd accepts a clone when end.line - start.line >= minLines, i.e. over minLines + 1
      // lines; Sonar's "at least 10 lines" is a span of 10.
      minLines: Math.max(1, options.minLines - 1),
      // The caller has already applied its size limit; jscpd's defaults (1000 lines, 100 kB)
      // would silently drop bigger files.
      maxLines: Number.MAX_SAFE_INTEGER,
      maxSize: '1gb',
      // Sonar's CPD ignores comments; jscpd's "weak" mode drops them from the token stream.
      mode: 'weak',
      gitignore: false,
      // No reporters: nothing is written (not even ./report) and nothing printed.
      reporters: [],
      silent: true,
      noTips: true,
    });
    const toFile = (sourceId: string): string | undefined =>
      sources[Number.parseInt(basename(sourceId), 10)]?.file;
    const sides = clones.flatMap(({ duplicationA: a, duplicationB: b }) => [
      { file: toFile(a.sourceId), startLine: a.start.line, endLine: a.end.line },
      { file: toFile(b.sourceId), startLine: b.start.line, endLine: b.end.line },
    ]).filter((side): side is CloneSide => side.file !== undefined);
    return summarizeClones(sides, sources);
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/** The extension picks jscpd's tokenizer; keep it, minus anything a glob could misread. */
function safeExtension(file: string): string {
  const ext = extname(file);
  return /^\.[A-Za-z0-9]+$/.test(ext) ? ext : '';
}
