// Entry point: `node src/server.js`. Reads the configuration from the environment, listens on
// $PORT (127.0.0.1) and shuts down gracefully on SIGTERM/SIGINT: stop accepting connections,
// let in-flight requests finish, then exit 0. That is what makes rolling deploys lossless.
import { accessSync, constants, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createApp } from './app.js';
import { readConfig } from './config.js';
import { createPageStore } from './pages.js';
import { ASSETS_DIR, loadAssets } from './static.js';

const packageJson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const config = readConfig(process.env, packageJson.version);

const healthChecks = [
  function assetsReadable() {
    accessSync(ASSETS_DIR, constants.R_OK);
    return { name: 'assets', ok: true };
  },
];

const handler = createApp({
  version: config.version,
  mode: /** @type {'author' | 'publish'} */ (config.mode),
  pages: createPageStore({ dataDir: config.dataDir }),
  assets: loadAssets(),
  healthChecks,
});

let shuttingDown = false;
const server = createServer((req, res) => {
  // During shutdown, tell keep-alive clients not to reuse this connection.
  if (shuttingDown) res.setHeader('Connection', 'close');
  void handler(req, res);
});
server.keepAliveTimeout = 5_000;

server.listen(config.port, config.host, () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  console.log(`sample-site ${config.version} (${config.mode}) listening on http://${config.host}:${port}`);
});

function shutdown(signal) {
  if (shuttingDown) return;
  shuttingDown = true;
  console.log(`${signal} received: finishing in-flight requests`);
  server.close(() => {
    console.log('all connections closed, exiting');
    process.exit(0);
  });
  server.closeIdleConnections();
  // Keep-alive connections that go idle after their last response are closed as they do.
  const sweep = setInterval(() => server.closeIdleConnections(), 100);
  sweep.unref();
  setTimeout(() => {
    console.log('grace period over, closing remaining connections');
    server.closeAllConnections();
    process.exit(0);
  }, config.shutdownGraceMs).unref();
}

process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
