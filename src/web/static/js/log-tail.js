// A step's log: the tail first (the last 256 KiB, so a 3 MB log opens at once), the whole log on
// request, then live as it grows; ANSI colours, search, line anchors (?log=<step>&line=<n> in
// the address, kept by reload), a raw download and a full-screen view. The logs link gives a
// signed redirect URL (no credentials needed) read with HTTP Range requests; 416/404 mean
// "nothing new yet".
import { ApiError, get, linkOf, rel } from './api.js';
import { ansiNodes, newAnsiState, plain } from './ansi.js';
import { h } from './dom.js';

const TAIL_BYTES = 256 * 1024;

/** The current address with this step's log line in its query (for a line anchor). */
function anchorHref(stepId, line) {
  const [path] = location.hash.slice(1).split('?');
  return `#${path}?log=${encodeURIComponent(stepId)}&line=${line}`;
}

export class LogTail {
  constructor(step, label = 'step', { line } = {}) {
    this.step = step;
    this.label = label;
    this.offset = 0; // bytes read, from the start of the file
    this.first = 0; // where the shown part starts
    this.lines = []; // plain text of the shown lines, for search
    this.partial = '';
    this.ansi = newAnsiState();
    this.target = line;
    this.running = step.status === 'RUNNING';
    this.body = h('div.log', { tabindex: '0', role: 'log', 'aria-label': `Log of ${label}`, 'aria-live': 'off' });
    this.status = h('p.muted.small', { text: 'Loading the log…' });
    this.earlier = h('button.link', { type: 'button', hidden: true }, 'Load the whole log');
    this.earlier.addEventListener('click', () => this.loadAll());
    this.search = h('input', { type: 'search', placeholder: 'Search the log', 'aria-label': `Search the log of ${label}` });
    this.found = h('span.small.muted', { 'aria-live': 'polite' });
    this.search.addEventListener('input', () => this.highlight());
    this.search.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); this.next(e.shiftKey ? -1 : 1); } });
    this.raw = h('a.small', { href: '#', download: `${step.action}-${step.id}.log`, hidden: true }, 'Raw log');
    this.expand = h('button.link', { type: 'button', 'aria-pressed': 'false', 'aria-label': `Full screen log of ${label}` }, 'Full screen');
    this.expand.addEventListener('click', () => this.toggleExpanded());
    this.el = h('div.log-panel', {},
      h('div.log-tools', {}, this.search, this.found, this.earlier, this.raw, this.expand), this.body, this.status);
    // One listener for every line number (a 3 MB log has tens of thousands of lines).
    this.body.addEventListener('click', (e) => {
      const a = e.target.closest?.('a.ln');
      if (!a) return;
      e.preventDefault();
      if (!a.textContent) return;
      history.replaceState(null, '', a.getAttribute('href'));
      this.mark(Number(a.textContent));
    });
    this.el.addEventListener('keydown', (e) => { if (e.key === 'Escape' && this.el.classList.contains('expanded')) this.toggleExpanded(); });
    this.matchAt = -1;
    this.stopped = false;
    this.decoder = new TextDecoder();
    this.loop();
  }

  setStep(step) {
    this.step = step;
    this.running = step.status === 'RUNNING';
  }

  toggleExpanded() {
    const on = this.el.classList.toggle('expanded');
    this.expand.setAttribute('aria-pressed', String(on));
    this.expand.textContent = on ? 'Close full screen' : 'Full screen';
    this.body.focus();
  }

  async url() {
    if (this.redirect) return this.redirect;
    const href = linkOf(this.step, rel.logs);
    if (!href) throw new Error('this step has no log');
    try {
      this.redirect = (await get(href)).redirect;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return undefined; // an ended step that wrote no log
      throw error;
    }
    this.raw.href = this.redirect;
    this.raw.hidden = false;
    return this.redirect;
  }

  async fetchRange(range, wait = false) {
    const url = await this.url();
    if (!url) return undefined;
    // While the step runs, the server holds a read at the end until new bytes land (wait=).
    const res = await fetch(wait ? `${url}&wait=10` : url, { headers: range ? { range } : {} });
    if (res.status === 404 || res.status === 416) return undefined;
    if (res.status === 403) { this.redirect = undefined; return undefined; } // expired link: ask again
    if (!res.ok) throw new Error(`log: HTTP ${res.status}`);
    const total = Number(/\/(\d+)$/.exec(res.headers.get('content-range') ?? '')?.[1] ?? NaN);
    return { res, bytes: new Uint8Array(await res.arrayBuffer()), total };
  }

  /** The first read: the tail only (unless a line anchor asks for the whole log). */
  async readTail() {
    const got = await this.fetchRange(this.target ? undefined : `bytes=-${TAIL_BYTES}`);
    if (!got) return 0;
    const size = Number.isNaN(got.total) ? got.bytes.length : got.total;
    this.first = size - got.bytes.length;
    this.offset = size;
    let bytes = got.bytes;
    if (this.first > 0) {
      // Start at a whole line.
      const nl = bytes.indexOf(10);
      bytes = nl >= 0 ? bytes.subarray(nl + 1) : bytes;
      this.first += got.bytes.length - bytes.length;
      this.earlier.hidden = false;
      this.earlier.textContent = `Load the whole log (${Math.round(this.first / 1024)} KiB more)`;
    }
    this.append(bytes);
    return bytes.length;
  }

  async readMore() {
    const got = await this.fetchRange(`bytes=${this.offset}-`, this.running);
    if (!got) return 0;
    let bytes = got.bytes;
    if (got.res.status === 200) bytes = bytes.subarray(this.offset); // the server ignored the range
    this.offset += bytes.length;
    this.append(bytes);
    return bytes.length;
  }

  async loadAll() {
    this.earlier.disabled = true;
    const got = await this.fetchRange(`bytes=0-${this.first - 1}`).catch((error) => { this.status.textContent = error.message; });
    if (!got) { this.earlier.disabled = false; return; }
    const text = this.decoder.decode(got.bytes.subarray(0, this.first));
    const older = text.split('\n');
    if (older[older.length - 1] === '') older.pop();
    const state = newAnsiState();
    const fragment = document.createDocumentFragment();
    older.forEach((line, i) => fragment.append(this.lineEl(line, i + 1, state)));
    // Renumber the lines already shown.
    this.body.querySelectorAll('.line').forEach((el, i) => this.number(el, older.length + i + 1));
    this.body.prepend(fragment);
    this.lines = [...older.map(plain), ...this.lines];
    this.first = 0;
    this.earlier.hidden = true;
    this.highlight();
  }

  number(el, n) {
    el.id = `log-${this.step.id}-L${n}`;
    const a = el.firstChild;
    a.textContent = String(n);
    a.href = anchorHref(this.step.id, n);
    a.setAttribute('aria-label', `Line ${n}`);
  }

  lineEl(text, n, state) {
    const a = h('a.ln', { href: '#', tabindex: '-1' });
    const el = h('div.line', {}, a, h('span.lt', {}, ansiNodes(text, state)));
    this.number(el, n);
    return el;
  }

  mark(n) {
    this.body.querySelector('.line.target')?.classList.remove('target');
    const el = this.body.querySelector(`#log-${this.step.id}-L${n}`);
    if (!el) return;
    el.classList.add('target');
    el.scrollIntoView({ block: 'center' });
  }

  append(bytes) {
    if (bytes.length === 0) return;
    const atBottom = this.body.scrollTop + this.body.clientHeight >= this.body.scrollHeight - 8;
    const text = this.partial + this.decoder.decode(bytes, { stream: true });
    const parts = text.split('\n');
    this.partial = parts.pop() ?? '';
    const numbered = this.first === 0;
    const base = this.lines.length;
    const fragment = document.createDocumentFragment();
    parts.forEach((line, i) => {
      const el = this.lineEl(line, base + i + 1, this.ansi);
      if (!numbered) el.firstChild.textContent = ''; // numbers are known once the whole log is loaded
      fragment.append(el);
    });
    this.lines.push(...parts.map(plain));
    this.body.querySelector('.partial')?.remove();
    this.body.append(fragment);
    if (this.partial) this.body.append(h('div.line.partial', {}, h('span.ln'), h('span.lt', { text: plain(this.partial) })));
    if (this.search.value) this.highlight();
    if (atBottom) this.body.scrollTop = this.body.scrollHeight;
  }

  highlight() {
    const term = this.search.value.toLowerCase();
    const els = this.body.querySelectorAll('.line:not(.partial)');
    let count = 0;
    this.lines.forEach((line, i) => {
      const hit = Boolean(term) && line.toLowerCase().includes(term);
      els[i]?.classList.toggle('match', hit);
      if (hit) count++;
    });
    this.found.textContent = term ? `${count} ${count === 1 ? 'line' : 'lines'}` : '';
    this.matchAt = -1;
  }

  next(direction) {
    const matches = [...this.body.querySelectorAll('.line.match')];
    if (matches.length === 0) return;
    this.matchAt = (this.matchAt + direction + matches.length) % matches.length;
    this.body.querySelector('.line.current')?.classList.remove('current');
    matches[this.matchAt].classList.add('current');
    matches[this.matchAt].scrollIntoView({ block: 'center' });
  }

  async loop() {
    let started = false;
    while (!this.stopped) {
      let n = 0;
      try {
        n = started ? await this.readMore() : await this.readTail();
        if (!started && this.target) this.mark(this.target);
        started = started || n > 0 || !this.running;
        this.status.textContent = this.running ? 'Following the log live…' : (this.offset ? '' : 'This step wrote no log.');
      } catch (error) {
        this.status.textContent = error.message;
      }
      if (!this.running && n === 0 && started) break;
      if (n === 0) await new Promise((r) => setTimeout(r, this.running ? 100 : 1000));
    }
  }

  stop() {
    this.stopped = true;
  }
}
