// The browser's API client: bearer token from localStorage, HAL links, problem+json errors,
// and server-sent events read with fetch() (EventSource cannot send the Authorization header).

export const REL = 'http://ns.adobe.com/adobecloud/rel/';
export const rel = {
  pipelines: `${REL}pipelines`,
  environments: `${REL}environments`,
  execution: `${REL}execution`,
  executionId: `${REL}execution/id`,
  executions: `${REL}executions`,
  advance: `${REL}pipeline/advance`,
  cancel: `${REL}pipeline/cancel`,
  reExecute: `${REL}pipeline/reExecute`,
  logs: `${REL}pipeline/logs`,
  metrics: `${REL}pipeline/metrics`,
  /** Slipway's own: redeploy an earlier execution's release (a rollback). */
  redeploy: 'http://ns.slipway.dev/rel/redeploy',
};

const TOKEN_KEY = 'slipway.token';

export const token = {
  get: () => localStorage.getItem(TOKEN_KEY) ?? '',
  set: (value) => localStorage.setItem(TOKEN_KEY, value),
  clear: () => localStorage.removeItem(TOKEN_KEY),
};

export class ApiError extends Error {
  constructor(status, title, detail) {
    super(detail ? `${title}: ${detail}` : title);
    this.status = status;
    this.title = title;
    this.detail = detail;
  }
}

function errorOf(status, body) {
  if (body && typeof body === 'object') {
    const errors = Array.isArray(body.errors) ? body.errors.map((e) => (typeof e === 'string' ? e : e.message)).join('; ') : '';
    return new ApiError(status, body.title ?? `HTTP ${status}`, body.detail ?? body.message ?? errors);
  }
  return new ApiError(status, `HTTP ${status}`, typeof body === 'string' ? body.slice(0, 300) : '');
}

/** Sends a request with the token; returns { status, headers, body }. Throws ApiError. */
export async function request(method, href, body) {
  const headers = { accept: 'application/json', authorization: `Bearer ${token.get()}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(href, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (error) {
    throw new ApiError(0, 'Network error', `Slipway could not be reached (${error.message})`);
  }
  const text = await res.text();
  let parsed;
  try { parsed = text ? JSON.parse(text) : undefined; } catch { parsed = text; }
  if (res.status >= 400) {
    if (res.status === 401) window.dispatchEvent(new CustomEvent('slipway:unauthorized'));
    throw errorOf(res.status, parsed);
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

export const get = async (href) => (await request('GET', href)).body;
export const put = async (href, body) => (await request('PUT', href, body)).body;

export function linkOf(resource, relation) {
  const l = resource?._links?.[relation];
  return (Array.isArray(l) ? l[0] : l)?.href;
}

export function embedded(resource, key) {
  const list = resource?._embedded?.[key];
  return Array.isArray(list) ? list : [];
}

export const paths = {
  program: (p) => `/api/program/${encodeURIComponent(p)}`,
  pipeline: (p, pl) => `/api/program/${encodeURIComponent(p)}/pipeline/${encodeURIComponent(pl)}`,
  execution: (p, pl, e) => `/api/program/${encodeURIComponent(p)}/pipeline/${encodeURIComponent(pl)}/execution/${encodeURIComponent(e)}`,
  environments: (p) => `/api/program/${encodeURIComponent(p)}/environments`,
  topology: (p, e) => `/api/program/${encodeURIComponent(p)}/environment/${encodeURIComponent(e)}/topology`,
};

/**
 * Follows a server-sent events stream; calls onEvent(type, data) per event. After a drop, or
 * while the server cannot be reached or answers 5xx, it reconnects with a growing delay (1 s,
 * 2 s, … 15 s; back to 1 s once connected) until `signal` aborts, calling onDrop() first;
 * onFailure(error) when the server refuses the stream (4xx): then it stops.
 */
export function followEvents(href, { signal, onEvent, onOpen, onDrop, onFailure }) {
  const decoder = new TextDecoder();
  let failures = 0;
  const again = () => {
    if (signal.aborted) return;
    onDrop?.();
    setTimeout(connect, Math.min(15000, 1000 * 2 ** failures++));
  };
  async function connect() {
    if (signal.aborted) return;
    let res;
    try {
      res = await fetch(href, { headers: { accept: 'text/event-stream', authorization: `Bearer ${token.get()}` }, signal });
    } catch {
      again();
      return;
    }
    if (res.status >= 500) {
      again();
      return;
    }
    if (!res.ok || !res.body) {
      if (res.status === 401) window.dispatchEvent(new CustomEvent('slipway:unauthorized'));
      onFailure?.(new ApiError(res.status, `HTTP ${res.status}`, 'live updates unavailable'));
      return;
    }
    failures = 0;
    onOpen?.();
    const reader = res.body.getReader();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let cut;
        while ((cut = buffer.search(/\r?\n\r?\n/)) >= 0) {
          const raw = buffer.slice(0, cut);
          buffer = buffer.slice(cut).replace(/^\r?\n\r?\n/, '');
          let type = 'message';
          const data = [];
          for (const line of raw.split(/\r?\n/)) {
            if (line.startsWith('event:')) type = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
          }
          if (data.length === 0) continue;
          let parsed;
          try { parsed = JSON.parse(data.join('\n')); } catch { parsed = data.join('\n'); }
          onEvent(type, parsed);
        }
      }
    } catch {
      /* aborted or dropped */
    }
    again();
  }
  connect();
}
