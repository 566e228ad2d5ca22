// Test helper: serves createApp() on an ephemeral 127.0.0.1 port.
import { createServer } from 'node:http';
import { createApp } from '../../src/app.js';
import { createPageStore } from '../../src/pages.js';
import { loadAssets } from '../../src/static.js';

export async function startApp(options = {}) {
  const handler = createApp({
    version: '9.9.9-test',
    mode: 'publish',
    pages: createPageStore({ dataDir: options.dataDir }),
    assets: loadAssets(),
    ...options,
  });
  const server = createServer((req, res) => void handler(req, res));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }),
  };
}
