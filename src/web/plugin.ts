// Serves the web UI at /ui/: plain ES modules and one stylesheet from src/web/static, read once
// at start-up (nothing else on disk can be reached through it), with a strict CSP.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

export const STATIC_DIR = fileURLToPath(new URL('./static', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
};

/** Scripts and styles only from here; API calls only to here; no framing, no inline code. */
export const CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "font-src 'self'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ');

interface StaticFile {
  body: Buffer;
  type: string;
}

function loadStatic(dir: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else {
        const type = TYPES[extname(name)];
        if (type) files.set(relative(dir, path).split(sep).join('/'), { body: readFileSync(path), type });
      }
    }
  };
  walk(dir);
  return files;
}

const headersFor = (file: StaticFile): Record<string, string> => ({
  'content-type': file.type,
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
});

function send(reply: FastifyReply, file: StaticFile): FastifyReply {
  return reply.headers(headersFor(file)).send(file.body);
}

const notFound = (name: string) => ({ type: 'about:blank', title: 'Not Found', status: 404, detail: `no UI file ${name}` });

const MARKER = 'slipwayWebUi';

export async function webPlugin(app: FastifyInstance): Promise<void> {
  // Registered by the server and perhaps again by a caller: the first registration wins.
  if (app.hasDecorator(MARKER)) return;
  app.decorate(MARKER, true);
  const files = loadStatic(STATIC_DIR);
  const index = files.get('index.html');
  if (!index) throw new Error(`web UI: ${STATIC_DIR}/index.html is missing`);
  // One route for /ui and /ui/ (the server ignores trailing slashes).
  app.get('/ui/', (_req, reply) => send(reply, index));
  app.get<{ Params: { '*': string } }>('/ui/*', (req, reply) => {
    const file = files.get(req.params['*']);
    if (!file) return reply.code(404).header('content-type', 'application/problem+json').send(notFound(req.params['*']));
    return send(reply, file);
  });
}

// Like fastify-plugin: the routes and the marker land on the instance it is registered on.
(webPlugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
