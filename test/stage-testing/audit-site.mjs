// A two-version page for the experience audit tests (run as a real process): the light home
// page, or (HEAVY=1) the same page behind 3 MB of render-blocking script that also keeps the
// main thread busy, which Lighthouse must score as clearly slower.
import { createServer } from 'node:http';

const heavy = process.env.HEAVY === '1';
const bigScript = `${'/* padding */'.repeat(230_000)}\nconst end = Date.now() + 1500; while (Date.now() < end) { /* busy */ }\n`;
const head = '<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="description" content="Audit test page"><title>Audit page</title>';
const page = `<!doctype html><html lang="en"><head>${head}${heavy ? '<script src="/big.js"></script>' : ''}</head><body><main><h1>Audit page</h1><p>Plain content.</p></main></body></html>`;

const server = createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  if (path === '/') return res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
  if (path === '/big.js' && heavy) return res.writeHead(200, { 'content-type': 'text/javascript' }).end(bigScript);
  if (path === '/moved') return res.writeHead(302, { location: '/login' }).end();
  return res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(`audit-site listening on http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`);
});
