// Duplicated code, the way SonarQube counts it for non-Java languages: a block of at least 100
// tokens spread over at least 10 lines that occurs more than once (in one file or across files).
// duplicated_lines_density = duplicated lines / physical lines × 100. Pure.
//
// (jscpd would do this, but its v5 package is a Rust binary whose platform package is not
// installed here; this is the same token-window idea in ~80 lines.)
import { countPhysicalLines, tokenize, type Token } from './tokens.ts';

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
  blocks: DuplicatedBlock[];
}

// Two independent 31-bit polynomial hashes make collisions between windows practically absent;
// candidate windows are compared token by token anyway.
const MOD_A = 2147483647;
const MOD_B = 2147483629;
const BASE_A = 1000003;
const BASE_B = 999983;

function mulMod(a: number, b: number, mod: number): number {
  const product = a * b;
  if (product <= Number.MAX_SAFE_INTEGER) return product % mod;
  return Number((BigInt(a) * BigInt(b)) % BigInt(mod));
}

interface FileTokens { file: string; tokens: Token[]; ids: number[] }

function windowKeys(ids: number[], size: number): string[] {
  if (ids.length < size) return [];
  let powA = 1; let powB = 1;
  for (let k = 1; k < size; k += 1) { powA = mulMod(powA, BASE_A, MOD_A); powB = mulMod(powB, BASE_B, MOD_B); }
  let ha = 0; let hb = 0;
  const keys: string[] = [];
  for (let k = 0; k < ids.length; k += 1) {
    const id = ids[k] ?? 0;
    if (k >= size) {
      const out = ids[k - size] ?? 0;
      ha = (ha - mulMod(out, powA, MOD_A) + MOD_A) % MOD_A;
      hb = (hb - mulMod(out, powB, MOD_B) + MOD_B) % MOD_B;
    }
    ha = (mulMod(ha, BASE_A, MOD_A) + id) % MOD_A;
    hb = (mulMod(hb, BASE_B, MOD_B) + id) % MOD_B;
    if (k >= size - 1) keys.push(`${ha}:${hb}`);
  }
  return keys;
}

function sameWindow(a: number[], aStart: number, b: number[], bStart: number, size: number): boolean {
  for (let k = 0; k < size; k += 1) if (a[aStart + k] !== b[bStart + k]) return false;
  return true;
}

export function detectDuplication(
  sources: { file: string; content: string }[],
  options: DuplicationOptions = SONAR_DUPLICATION,
): DuplicationResult {
  const vocabulary = new Map<string, number>();
  const files: FileTokens[] = sources.map(({ file, content }) => {
    const tokens = tokenize(content);
    const ids = tokens.map((t) => {
      let id = vocabulary.get(t.text);
      if (id === undefined) { id = vocabulary.size + 1; vocabulary.set(t.text, id); }
      return id;
    });
    return { file, tokens, ids };
  });

  // First occurrence of each window; later equal windows mark both as duplicated.
  const firstSeen = new Map<string, { fileIndex: number; start: number }>();
  const marked = files.map((f) => new Uint8Array(f.tokens.length));
  files.forEach((f, fileIndex) => {
    windowKeys(f.ids, options.minTokens).forEach((key, start) => {
      const seen = firstSeen.get(key);
      if (!seen) { firstSeen.set(key, { fileIndex, start }); return; }
      const other = files[seen.fileIndex];
      if (!other || !sameWindow(other.ids, seen.start, f.ids, start, options.minTokens)) return;
      marked[seen.fileIndex]?.fill(1, seen.start, seen.start + options.minTokens);
      marked[fileIndex]?.fill(1, start, start + options.minTokens);
    });
  });

  const blocks: DuplicatedBlock[] = [];
  let duplicatedLines = 0;
  let totalLines = 0;
  files.forEach((f, fileIndex) => {
    totalLines += countPhysicalLines(sources[fileIndex]?.content ?? '');
    const flags = marked[fileIndex] ?? new Uint8Array();
    const lines = new Set<number>();
    let k = 0;
    while (k < flags.length) {
      if (!flags[k]) { k += 1; continue; }
      const runStart = k;
      while (k < flags.length && flags[k]) k += 1;
      const startLine = f.tokens[runStart]?.line ?? 0;
      const endLine = f.tokens[k - 1]?.endLine ?? startLine;
      if (endLine - startLine + 1 < options.minLines) continue;
      blocks.push({ file: f.file, startLine, endLine });
      for (let l = startLine; l <= endLine; l += 1) lines.add(l);
    }
    duplicatedLines += lines.size;
  });
  const density = totalLines === 0 ? 0 : Math.round((duplicatedLines / totalLines) * 1000) / 10;
  return { duplicatedLines, totalLines, density, blocks };
}
