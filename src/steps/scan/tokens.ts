// A small JS/TS tokenizer for counting lines of code (Sonar's `ncloc`). It only needs to know what
// is code and what is a comment or blank: strings and template literals are single tokens (so a
// multi-line template counts all its lines), comments and whitespace are dropped, a `/` starts a
// regular expression when it cannot be a division. Pure. (Duplication is jscpd's, see
// duplication.ts.)

export interface Token {
  text: string;
  line: number;
  /** Last line of the token (multi-line strings and templates). */
  endLine: number;
}

const WORD = /[A-Za-z0-9_$\u0080-\uffff]/;
/** After these, a `/` begins a regular expression rather than a division. */
const REGEX_PRECEDERS = new Set(['(', ',', '=', ':', '[', '!', '&', '|', '?', '{', '}', ';', '+', '-', '*', '%', '<', '>', '~', '^', 'return', 'typeof', 'case', 'do', 'else', 'in', 'of', 'new', 'delete', 'void', 'throw', 'yield', 'await']);

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  const n = source.length;
  const push = (start: number, startLine: number): void => {
    tokens.push({ text: source.slice(start, i), line: startLine, endLine: line });
  };
  while (i < n) {
    const c = source[i] ?? '';
    const next = source[i + 1] ?? '';
    if (c === '\n') { line += 1; i += 1; continue; }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v' || c === '\uFEFF') { i += 1; continue; }
    if (c === '/' && next === '/') {
      while (i < n && source[i] !== '\n') i += 1;
      continue;
    }
    if (c === '/' && next === '*') {
      i += 2;
      while (i < n && !(source[i] === '*' && source[i + 1] === '/')) {
        if (source[i] === '\n') line += 1;
        i += 1;
      }
      i += 2;
      continue;
    }
    const start = i;
    const startLine = line;
    if (c === '"' || c === "'" || c === '`') {
      i += 1;
      while (i < n && source[i] !== c) {
        if (source[i] === '\\') i += 1;
        else if (source[i] === '\n') { line += 1; if (c !== '`') break; } // unterminated: stop at EOL
        i += 1;
      }
      i += 1;
      push(start, startLine);
      continue;
    }
    if (c === '/') {
      const previous = tokens[tokens.length - 1]?.text;
      if (previous === undefined || REGEX_PRECEDERS.has(previous)) {
        let inClass = false;
        i += 1;
        while (i < n && source[i] !== '\n') {
          const r = source[i];
          if (r === '\\') i += 1;
          else if (r === '[') inClass = true;
          else if (r === ']') inClass = false;
          else if (r === '/' && !inClass) break;
          i += 1;
        }
        i += 1;
        while (i < n && /[a-z]/i.test(source[i] ?? '')) i += 1; // flags
        push(start, startLine);
        continue;
      }
    }
    if (WORD.test(c)) {
      while (i < n && WORD.test(source[i] ?? '')) i += 1;
      push(start, startLine);
      continue;
    }
    i += 1;
    push(start, startLine);
  }
  return tokens;
}

/** Non-blank, non-comment lines: lines on which some token lies. */
export function countLinesOfCode(source: string): number {
  return linesOfCode(tokenize(source));
}

export function linesOfCode(tokens: readonly Token[]): number {
  const lines = new Set<number>();
  for (const token of tokens) {
    for (let l = token.line; l <= token.endLine; l += 1) lines.add(l);
  }
  return lines.size;
}

/** Physical lines, as Sonar counts `lines` (a trailing newline does not start a new line). */
export function countPhysicalLines(source: string): number {
  if (source === '') return 0;
  const lines = source.split('\n').length;
  return source.endsWith('\n') ? lines - 1 : lines;
}
