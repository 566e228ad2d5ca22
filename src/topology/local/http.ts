// Small HTTP helpers for health checks and warm-up: one fresh connection per request
// (no pooling), bounded by a timeout, 127.0.0.1 only.
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export function httpGet(port: number, path: string, timeoutMs = 2000): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', agent: false, timeout: timeoutMs,
      headers: { connection: 'close' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

export async function isHealthy(port: number, path: string, timeoutMs = 2000): Promise<boolean> {
  try {
    const res = await httpGet(port, path, timeoutMs);
    return res.status >= 200 && res.status < 300;
  } catch {
    return false;
  }
}

/**
 * How often a deploy polls what it waits for while a pair is out of the load balancer (its
 * requests in flight, its warm-up): short, since that is time the pair does not serve.
 */
export const POLL_MS = 20;

/**
 * Polls `probe` until it returns true or `timeoutMs` passes. `giveUp` ends the wait early
 * (e.g. the process being checked has exited); `again` skips the pause before the next try
 * when the last answer says it can succeed at once (a cache MISS has just filled the cache).
 */
export async function waitFor(
  probe: () => Promise<boolean>,
  options: { timeoutMs: number; intervalMs: number; giveUp?: () => boolean; again?: () => boolean },
): Promise<boolean> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (await probe()) return true;
    if (options.giveUp?.() === true || Date.now() >= deadline) return false;
    if (options.again?.() !== true) await sleep(options.intervalMs);
  }
}

