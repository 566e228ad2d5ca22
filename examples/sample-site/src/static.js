// Static assets, loaded into memory at start: the set of servable files is fixed per release,
// so no request path ever reaches the file system.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CONTENT_TYPES = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

/** The release's static assets, served under /assets/. */
// Not import.meta.dirname: the app image runs Debian's Node 18, which does not have it.
export const ASSETS_DIR = fileURLToPath(new URL('../public/assets', import.meta.url));

export function loadAssets() {
  const assets = new Map();
  for (const file of readdirSync(ASSETS_DIR, { recursive: true, withFileTypes: true })) {
    if (!file.isFile()) continue;
    const full = join(file.parentPath ?? file.path, file.name);
    const relative = full.slice(ASSETS_DIR.length).split('\\').join('/').replace(/^\/+/, '');
    const body = readFileSync(full);
    assets.set(`/assets/${relative}`, {
      body,
      type: CONTENT_TYPES[extname(file.name)] ?? 'application/octet-stream',
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
    });
  }
  return assets;
}
