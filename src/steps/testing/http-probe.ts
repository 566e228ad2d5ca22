// One HTTP request with a deadline that never throws: the checks want a status and headers, or
// the reason there were none. Redirects are not followed (a redirect is itself an answer).
export interface ProbeResult {
  ok: boolean;
  status: number; // 0 when the request failed
  headers: Headers;
  body: string;
  error?: string;
  timeMs: number;
}

export interface ProbeOptions {
  method?: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Bytes of body kept (enough to spot a stack trace or a listing). */
  maxBody?: number;
}

export async function probe(url: string, options: ProbeOptions = {}): Promise<ProbeResult> {
  const started = performance.now();
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 10_000);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  try {
    const res = await fetch(url, { method: options.method ?? 'GET', headers: options.headers, redirect: 'manual', signal });
    const text = options.method === 'HEAD' ? '' : await res.text();
    return {
      ok: res.status >= 200 && res.status < 300,
      status: res.status,
      headers: res.headers,
      body: text.slice(0, options.maxBody ?? 64_000),
      timeMs: performance.now() - started,
    };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    return { ok: false, status: 0, headers: new Headers(), body: '', error: cause ?? (err as Error).message, timeMs: performance.now() - started };
  }
}

/** Joins a node URL and a site path ("/a/b") without doubling slashes. */
export function urlOf(base: string, path: string): string {
  return base.replace(/\/+$/, '') + (path.startsWith('/') ? path : `/${path}`);
}
