// Fixture app for the topology tests: /health, X-App-Version, graceful SIGTERM, and a flag
// (FAIL_HEALTH_ON=<node name>) that makes one node's health check fail.
import { createServer } from 'node:http';

const version = process.env.APP_VERSION ?? 'dev';
const node = (process.env.SLIPWAY_NODE ?? '').split('/')[1]; // env/node/port
const sick = process.env.FAIL_HEALTH_ON !== undefined && process.env.FAIL_HEALTH_ON === node;
const delayMs = Number(process.env.RESPONSE_DELAY_MS ?? '1');

const server = createServer((req, res) => {
  const headers = { 'content-type': 'text/plain', 'x-app-version': version, 'x-app-mode': process.env.APP_MODE ?? '' };
  if (req.url === '/health') {
    res.writeHead(sick ? 500 : 200, headers);
    res.end(sick ? 'sick\n' : 'ok\n');
    return;
  }
  setTimeout(() => {
    res.writeHead(200, headers);
    res.end(`${version} ${req.url}\n`);
  }, delayMs);
});
server.keepAliveTimeout = 4000;
// HOST: a container's port is published to its network address, not its loopback.
server.listen(Number(process.env.PORT), process.env.HOST ?? '127.0.0.1');

process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 5000).unref();
});
