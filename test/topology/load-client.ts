// Load generator run as a SECOND process (forked with IPC): constant closed-loop load against
// the load balancer, keep-alive on or off (`Connection: close`), bounded by count and time.
// Reports every non-2xx answer, every socket error, the versions and dispatchers that answered,
// and latency percentiles per phase (the parent names phases: "before", "during", ...).
import { Agent, request } from 'node:http';

export interface PhaseLatency { count: number; p50: number; p99: number; max: number }

export interface LoadResult {
  total: number;
  ok: number;
  non2xx: Record<string, number>;
  errors: Record<string, number>;
  versions: Record<string, number>;
  dispatchers: Record<string, number>;
  phases: Record<string, PhaseLatency>;
  elapsedMs: number;
}

interface Start { type: 'start'; port: number; keepAlive: boolean; concurrency: number; maxRequests: number; maxMs: number; paths?: string[] }

const PATHS = ['/', '/assets/app.css', '/page/1', '/assets/app.js', '/page/2?x=1'];

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

function bump(map: Record<string, number>, key: string): void {
  map[key] = (map[key] ?? 0) + 1;
}

async function run(cfg: Start): Promise<void> {
  const agent = cfg.keepAlive ? new Agent({ keepAlive: true, maxSockets: cfg.concurrency }) : undefined;
  const result: LoadResult = { total: 0, ok: 0, non2xx: {}, errors: {}, versions: {}, dispatchers: {}, phases: {}, elapsedMs: 0 };
  const latencies = new Map<string, number[]>();
  let phase = 'default';
  let stopping = false;
  const started = Date.now();
  process.on('message', (m: { type: string; name?: string }) => {
    if (m.type === 'phase' && m.name) phase = m.name;
    if (m.type === 'stop') stopping = true;
  });
  const ticker = setInterval(() => process.send?.({ type: 'count', count: result.total }), 100);

  const one = (path: string): Promise<void> => new Promise((resolve) => {
    const t0 = performance.now();
    const tag = phase;
    const req = request({
      host: '127.0.0.1', port: cfg.port, path, agent: agent ?? false,
      headers: cfg.keepAlive ? {} : { connection: 'close' },
    }, (res) => {
      res.resume();
      res.on('end', () => {
        result.total += 1;
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) result.ok += 1; else bump(result.non2xx, String(status));
        bump(result.versions, String(res.headers['x-app-version'] ?? 'none'));
        bump(result.dispatchers, String(res.headers['x-dispatcher'] ?? 'none'));
        let list = latencies.get(tag);
        if (!list) { list = []; latencies.set(tag, list); }
        list.push(performance.now() - t0);
        resolve();
      });
      res.on('error', (err: NodeJS.ErrnoException) => { result.total += 1; bump(result.errors, err.code ?? err.message); resolve(); });
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', (err: NodeJS.ErrnoException) => { result.total += 1; bump(result.errors, err.code ?? err.message); resolve(); });
    req.end();
  });

  const done = (): boolean => stopping || result.total >= cfg.maxRequests || Date.now() - started >= cfg.maxMs;
  await Promise.all(Array.from({ length: cfg.concurrency }, async (_, w) => {
    const paths = cfg.paths ?? PATHS;
    for (let n = w; !done(); n++) await one(paths[n % paths.length] ?? '/');
  }));
  clearInterval(ticker);
  agent?.destroy();
  result.elapsedMs = Date.now() - started;
  for (const [name, list] of latencies) {
    const sorted = [...list].sort((a, b) => a - b);
    result.phases[name] = { count: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? 0 };
  }
  process.send?.({ type: 'result', result }, () => process.exit(0));
}

if (process.send) {
  process.once('message', (m: Start) => {
    if (m.type === 'start') void run(m);
  });
}
