// Asks the OS for a free TCP port on 127.0.0.1 (for child servers that need a port number up
// front, such as chromedriver). There is a small window before the child binds it; callers
// retry the start if it is taken.
import { createServer } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}
