// Child process of the loadTest step: runs autocannon against the given URL(s) and prints one
// JSON line with the figures. A separate process keeps the load generator's event loop away from
// Slipway's own (the engine keeps heartbeating leases while this runs).
// Input: argv[2] = JSON {url, paths, durationSeconds, connections}.
// autocannon 9's latency result has p50/p90/p97_5/p99 but no p95, so every response time is
// recorded from the 'response' event into 0.1 ms buckets (up to the 10 s request timeout; a
// fixed 400 KB however long the run) and the 95th percentile is read from them here.
import autocannon from 'autocannon';

const input = JSON.parse(process.argv[2] ?? '{}');
const BUCKET_MS = 0.1;
const buckets = new Uint32Array(100_001);
let responses = 0;
const instance = autocannon({
  url: input.url,
  connections: input.connections ?? 10,
  duration: input.durationSeconds ?? 10,
  timeout: 10,
  requests: (input.paths ?? ['/']).map((path) => ({ method: 'GET', path })),
});
instance.on('response', (_client, _status, _bytes, responseTime) => {
  buckets[Math.min(buckets.length - 1, Math.round(responseTime / BUCKET_MS))] += 1;
  responses += 1;
});

/** The smallest recorded time that at least p % of the responses do not exceed. */
function percentile(p) {
  if (responses === 0) return 0;
  const rank = Math.ceil((p / 100) * responses);
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    seen += buckets[i];
    if (seen >= rank) return Math.round(i * BUCKET_MS * 10) / 10;
  }
  return (buckets.length - 1) * BUCKET_MS;
}
process.on('SIGTERM', () => instance.stop());

instance.on('done', (result) => {
  process.stdout.write(`${JSON.stringify({
    requests: result.requests.total,
    responses,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    durationSeconds: result.duration,
    p50Ms: percentile(50),
    p95Ms: percentile(95),
    p97_5Ms: result.latency.p97_5,
    p99Ms: result.latency.p99,
    averageMs: result.latency.average,
    statusCodes: result.statusCodeStats ?? {},
  })}\n`);
});
