// ANSI colour codes (SGR: ESC [ … m) in build logs turned into classes (the CSP allows no
// inline styles); every other escape sequence is dropped. Text stays text nodes (no HTML).
import { h } from './dom.js';

const SGR = /\x1b\[([0-9;]*)m/g;
const OTHER_ESCAPES = /\x1b\[[0-9;?]*[A-Za-ln-z]|\x1b\][^\x07]*\x07|\r/g;

/** State carried from one line to the next: { fg, bold }. */
export function newAnsiState() {
  return { fg: undefined, bold: false };
}

function apply(state, codes) {
  for (const c of (codes || '0').split(';').map(Number)) {
    if (c === 0) { state.fg = undefined; state.bold = false; }
    else if (c === 1) state.bold = true;
    else if (c === 22) state.bold = false;
    else if ((c >= 30 && c <= 37) || (c >= 90 && c <= 97)) state.fg = c;
    else if (c === 39) state.fg = undefined;
  }
}

/** The nodes of one line: plain text, or spans with ansi-* classes. */
export function ansiNodes(line, state) {
  const text = line.replace(OTHER_ESCAPES, '');
  if (!text.includes('\x1b[') && state.fg === undefined && !state.bold) return [text];
  const out = [];
  let last = 0;
  const piece = (s) => {
    if (!s) return;
    const classes = [state.fg !== undefined ? `ansi-${state.fg}` : '', state.bold ? 'ansi-bold' : ''].filter(Boolean);
    out.push(classes.length ? h(`span.${classes.join('.')}`, { text: s }) : s);
  };
  for (const m of text.matchAll(SGR)) {
    piece(text.slice(last, m.index));
    apply(state, m[1]);
    last = m.index + m[0].length;
  }
  piece(text.slice(last));
  return out;
}

/** The line without escape sequences (for search). */
export const plain = (line) => line.replace(SGR, '').replace(OTHER_ESCAPES, '');
