// A step's log with live tail: the logs link gives a redirect URL (no credentials needed) that
// is read with HTTP Range requests from the last offset; 416/404 mean "nothing new yet".
import { ApiError, get, linkOf, rel } from './api.js';
import { h } from './dom.js';

export class LogTail {
  constructor(step) {
    this.step = step;
    this.offset = 0;
    this.running = step.status === 'RUNNING';
    this.pre = h('pre.log', { tabindex: '0', 'aria-label': 'Step log', 'aria-live': 'off' });
    this.status = h('p.muted.small', { text: 'Loading the log…' });
    this.el = h('div.log-panel', {}, this.pre, this.status);
    this.stopped = false;
    this.decoder = new TextDecoder();
    this.loop();
  }

  setStep(step) {
    this.step = step;
    this.running = step.status === 'RUNNING';
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
    return this.redirect;
  }

  async readOnce() {
    const url = await this.url();
    if (!url) return 0;
    // While the step runs, the server holds a read at the end until new bytes land (wait=).
    const res = await fetch(this.running ? `${url}&wait=10` : url, { headers: this.offset > 0 ? { range: `bytes=${this.offset}-` } : {} });
    if (res.status === 404 || res.status === 416) return 0;
    if (res.status === 403) { this.redirect = undefined; return 0; } // expired link: ask again
    if (!res.ok) throw new Error(`log: HTTP ${res.status}`);
    const buf = new Uint8Array(await res.arrayBuffer());
    if (res.status === 200 && this.offset > 0) {
      // The server ignored the range: take only the new part.
      const fresh = buf.subarray(this.offset);
      this.offset = buf.length;
      this.append(fresh);
      return fresh.length;
    }
    this.offset += buf.length;
    this.append(buf);
    return buf.length;
  }

  append(bytes) {
    if (bytes.length === 0) return;
    const atBottom = this.pre.scrollTop + this.pre.clientHeight >= this.pre.scrollHeight - 8;
    this.pre.append(this.decoder.decode(bytes, { stream: true }));
    if (atBottom) this.pre.scrollTop = this.pre.scrollHeight;
  }

  async loop() {
    while (!this.stopped) {
      let n = 0;
      try {
        n = await this.readOnce();
        this.status.textContent = this.running ? 'Following the log live…' : (this.offset ? '' : 'This step wrote no log.');
      } catch (error) {
        this.status.textContent = error.message;
      }
      if (!this.running && n === 0) break;
      if (n === 0) await new Promise((r) => setTimeout(r, this.running ? 100 : 1000));
    }
  }

  stop() {
    this.stopped = true;
  }
}
