// The sample app as Slipway runs it: `node src/server.js` in dist/, author and publish mode,
// headers on every response, /health, graceful SIGTERM; and the variants that change it at run time.
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp, runCommand, sampleCopy, startSite, tempDir } from './harness.ts';
import type { RunningSite } from './harness.ts';

afterAll(cleanUp);

const PAGES = ['/', '/about.html', '/products.html', '/contact.html'];

function expectCommonHeaders(res: Response, version: string): void {
  expect(res.headers.get('x-app-version')).toBe(version);
  expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  expect(res.headers.get('x-frame-options')).toBe('DENY');
  expect(res.headers.get('referrer-policy')).toBe('strict-origin-when-cross-origin');
}

describe('sample app from dist/', () => {
  let dist = '';
  let publish: RunningSite;
  let author: RunningSite;
  const dataDir = { path: '' };

  beforeAll(async () => {
    const dir = await sampleCopy();
    const build = await runCommand(dir, 'npm', ['run', 'build']);
    expect(build.code, build.stderr).toBe(0);
    dist = join(dir, 'dist');
    dataDir.path = await tempDir('sample-data-');
    [publish, author] = await Promise.all([
      startSite(dist, { APP_VERSION: '2026.1.1', APP_MODE: 'publish' }),
      startSite(dist, { APP_VERSION: '2026.1.1', APP_MODE: 'author', APP_DATA_DIR: dataDir.path }),
    ]);
  });
  afterAll(async () => { await Promise.all([publish?.stop(), author?.stop()]); });

  it('listens on 127.0.0.1', () => {
    expect(publish.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('serves the pages with the version and security headers and short caching', async () => {
    for (const path of PAGES) {
      const res = await fetch(publish.url + path);
      expect(res.status, path).toBe(200);
      expectCommonHeaders(res, '2026.1.1');
      expect(res.headers.get('cache-control')).toBe('public, max-age=60');
      const html = await res.text();
      expect(html).toMatch(/<html lang="en">/);
      expect(html).toMatch(/<meta name="description" content="[^"]{50,}">/);
    }
    const contact = await (await fetch(`${publish.url}/contact.html`)).text();
    expect(contact).toMatch(/<form [^>]*method="post" action="\/contact"/);
  });

  it('serves the stylesheet and images with long caching', async () => {
    for (const [path, type] of [['/assets/site.css', 'text/css'], ['/assets/logo.svg', 'image/svg+xml'],
      ['/assets/harbour.svg', 'image/svg+xml']] as const) {
      const res = await fetch(publish.url + path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toContain(type);
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expectCommonHeaders(res, '2026.1.1');
    }
  });

  it('reports health with the release version', async () => {
    const res = await fetch(`${publish.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', version: '2026.1.1' });
    expectCommonHeaders(res, '2026.1.1');
  });

  it('hides the author endpoints on publish and keeps the headers on a 404', async () => {
    const res = await fetch(`${publish.url}/author/pages`);
    expect(res.status).toBe(404);
    expectCommonHeaders(res, '2026.1.1');
    expect((await fetch(`${publish.url}/admin`)).status).toBe(404);
  });

  it('accepts the contact form', async () => {
    const res = await fetch(`${publish.url}/contact`, {
      method: 'POST', body: new URLSearchParams({ name: 'Vitest', email: 'v@example.com', message: 'Hi' }),
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Thanks, Vitest.');
  });

  it('lets author edit pages, kept in APP_DATA_DIR across restarts', async () => {
    const list = await (await fetch(`${author.url}/author/pages`)).json() as { pages: Array<{ name: string }> };
    expect(list.pages.map((p) => p.name)).toEqual(['home', 'about', 'products', 'contact']);
    const put = await fetch(`${author.url}/author/pages/about`, {
      method: 'PUT', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ heading: 'Our crew', text: 'Twelve sailors.' }),
    });
    expect(put.status).toBe(200);
    expect(await (await fetch(`${author.url}/about.html`)).text()).toContain('<h1>Our crew</h1>');

    expect(await author.stop()).toBe(0);
    author = await startSite(dist, { APP_VERSION: '2026.1.1', APP_MODE: 'author', APP_DATA_DIR: dataDir.path });
    expect(await (await fetch(`${author.url}/about.html`)).text()).toContain('<p>Twelve sailors.</p>');
  });

  it('falls back to the package.json version without APP_VERSION', async () => {
    const site = await startSite(dist);
    try {
      const res = await fetch(`${site.url}/health`);
      expect(await res.json()).toMatchObject({ status: 'ok', version: '1.0.0', mode: 'publish' });
      expect(res.headers.get('x-app-version')).toBe('1.0.0');
    } finally {
      await site.stop();
    }
  });

  it('finishes an in-flight request on SIGTERM, refuses new connections, exits 0', async () => {
    const site = await startSite(dist, { APP_VERSION: '2026.1.1' });
    const { port } = new URL(site.url);
    const body = 'name=Slow&email=slow%40example.com&message=' + 'x'.repeat(2000);
    const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/contact',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': body.length } }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => { text += d.toString(); });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      req.write(body.slice(0, 100)); // the request is now in flight; the rest comes after SIGTERM
      setTimeout(() => {
        site.child.kill('SIGTERM');
        setTimeout(() => req.end(body.slice(100)), 400);
      }, 300);
    });
    await new Promise((r) => setTimeout(r, 500));
    await expect(fetch(`${site.url}/health`)).rejects.toThrow(); // no longer accepting
    const res = await response;
    expect(res.status).toBe(200);
    expect(res.text).toContain('Thanks, Slow.');
    expect(await site.stop()).toBe(0);
    expect(site.output()).toContain('SIGTERM received');
  });
});

describe('variants at run time', () => {
  it('brokenHealth: /health answers 500 while the pages still work', async () => {
    const site = await startSite(await sampleCopy('brokenHealth'));
    try {
      const res = await fetch(`${site.url}/health`);
      expect(res.status).toBe(500);
      expect(await res.json()).toMatchObject({ status: 'failing', failed: [{ name: 'database', ok: false }] });
      expect((await fetch(`${site.url}/`)).status).toBe(200);
    } finally {
      await site.stop();
    }
  });

  it('insecure: /admin is open on publish and X-Content-Type-Options is gone', async () => {
    const site = await startSite(await sampleCopy('insecure'));
    try {
      const admin = await fetch(`${site.url}/admin`);
      expect(admin.status).toBe(200);
      expect((await fetch(`${site.url}/`)).headers.get('x-content-type-options')).toBeNull();
    } finally {
      await site.stop();
    }
  });

  it('newVersion: the package version moves to 1.1.0', async () => {
    const site = await startSite(await sampleCopy('newVersion'));
    try {
      expect(await (await fetch(`${site.url}/health`)).json()).toMatchObject({ version: '1.1.0' });
    } finally {
      await site.stop();
    }
  });
});
