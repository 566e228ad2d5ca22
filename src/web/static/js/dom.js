// A tiny DOM helper (no framework): h('tag.class', {attrs}, ...children), plus formatting.

/** Creates an element. `on*` attributes become listeners; false/null/undefined attrs are skipped. */
export function h(spec, attrs = {}, ...children) {
  const [tag, ...classes] = spec.split('.');
  const el = document.createElement(tag || 'div');
  if (classes.length) el.className = classes.join(' ');
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key === 'class') el.className = [el.className, value].filter(Boolean).join(' ');
    else if (key === 'text') el.textContent = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** SVG elements need their namespace. */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [key, value] of Object.entries(attrs)) if (value !== undefined && value !== null) el.setAttribute(key, String(value));
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

/** "2019-07-08T22:44:32.267+0000" → Date (the API's Cloud Manager timestamp form). */
export function parseTime(value) {
  if (!value) return undefined;
  const t = Date.parse(String(value).replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  return Number.isNaN(t) ? undefined : new Date(t);
}

export function formatTime(value) {
  const d = parseTime(value);
  return d ? d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' }) : '';
}

export function duration(start, end, now = Date.now()) {
  const s0 = parseTime(start);
  if (!s0) return '';
  const e0 = parseTime(end)?.getTime() ?? now;
  const s = Math.max(0, Math.round((e0 - s0.getTime()) / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m ${String(s % 60).padStart(2, '0')}s` : `${Math.floor(m / 60)}h ${m % 60}m`;
}

const STATUS_CLASS = {
  FINISHED: 'ok', INCOMPLETE: 'muted', RUNNING: 'run', WAITING: 'wait', CANCELLING: 'wait', NOT_STARTED: 'idle',
  FAILED: 'bad', ERROR: 'bad', CANCELLED: 'bad', ROLLING_BACK: 'wait', ROLLED_BACK: 'bad',
  IDLE: 'idle', BUSY: 'run', ready: 'ok', creating: 'run', failed: 'bad',
};

/** A status shown as text and colour (never colour alone). */
export function badge(status) {
  return h(`span.badge.badge-${STATUS_CLASS[status] ?? 'idle'}`, { text: String(status ?? '').replaceAll('_', ' ') });
}
