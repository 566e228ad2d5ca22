import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SECURITY_HEADERS } from '../../src/headers.js';
import { startApp } from './helpers.js';

describe('publish mode', () => {
  let app;
  before(async () => { app = await startApp(); });
  after(() => app.close());

  test('serves every page with short caching, the version and the security headers', async () => {
    for (const path of ['/', '/index.html', '/about.html', '/products.html', '/contact.html']) {
      const res = await fetch(app.url + path);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
      assert.equal(res.headers.get('cache-control'), 'public, max-age=60');
      assert.equal(res.headers.get('x-app-version'), '9.9.9-test');
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) assert.equal(res.headers.get(name), value, name);
      assert.match(await res.text(), /<h1>[^<]+<\/h1>/);
    }
  });

  test('answers HEAD without a body', async () => {
    const res = await fetch(`${app.url}/about.html`, { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.ok(Number(res.headers.get('content-length')) > 0);
    assert.equal(await res.text(), '');
  });

  test('serves assets with long caching and ETags', async () => {
    const css = await fetch(`${app.url}/assets/site.css`);
    assert.equal(css.status, 200);
    assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8');
    assert.equal(css.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    const etag = css.headers.get('etag') ?? '';
    const again = await fetch(`${app.url}/assets/site.css`, { headers: { 'If-None-Match': etag } });
    assert.equal(again.status, 304);
    const svg = await fetch(`${app.url}/assets/logo.svg`);
    assert.equal(svg.headers.get('content-type'), 'image/svg+xml');
    assert.equal((await fetch(`${app.url}/assets/site.css`, { method: 'DELETE' })).status, 405);
  });

  test('reports health as JSON with the version', async () => {
    const res = await fetch(`${app.url}/health`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.deepEqual(await res.json(), { status: 'ok', version: '9.9.9-test', mode: 'publish' });
    assert.equal((await fetch(`${app.url}/health`, { method: 'POST' })).status, 405);
  });

  test('answers 404 for unknown paths and the author endpoints, 405 for wrong methods', async () => {
    for (const path of ['/nope.html', '/assets/../src/app.js', '/author/pages', '/author']) {
      const res = await fetch(app.url + path);
      assert.equal(res.status, 404, path);
      assert.equal(res.headers.get('x-app-version'), '9.9.9-test');
    }
    const put = await fetch(`${app.url}/about.html`, { method: 'PUT', body: 'x' });
    assert.equal(put.status, 405);
    assert.equal(put.headers.get('allow'), 'GET, HEAD');
    assert.equal((await fetch(`${app.url}/contact`)).status, 405);
  });

  test('accepts a valid contact message', async () => {
    const res = await fetch(`${app.url}/contact`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ name: 'Ann <A>', email: 'ann@example.com', message: 'Hello' }),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.match(await res.text(), /Thanks, Ann &lt;A&gt;\./);
  });

  test('re-renders the form with errors for an invalid message', async () => {
    const res = await fetch(`${app.url}/contact`, { method: 'POST', body: 'name=Ann&email=nope' });
    assert.equal(res.status, 400);
    const html = await res.text();
    assert.match(html, /id="email-error"/);
    assert.match(html, /value="Ann"/);
  });

  test('refuses bodies over 64 KiB', async () => {
    const res = await fetch(`${app.url}/contact`, { method: 'POST', body: 'message=' + 'x'.repeat(70_000) });
    assert.equal(res.status, 413);
  });
});

describe('author mode', () => {
  let app;
  before(async () => { app = await startApp({ mode: 'author' }); });
  after(() => app.close());

  test('lists the pages', async () => {
    const res = await fetch(`${app.url}/author/pages`);
    assert.equal(res.status, 200);
    const { pages } = await res.json();
    assert.deepEqual(pages.map((p) => p.name), ['home', 'about', 'products', 'contact']);
  });

  test('edits a page and serves the edit', async () => {
    const put = await fetch(`${app.url}/author/pages/about`, {
      method: 'PUT', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ heading: 'Edited heading', text: 'New <b>text</b>' }),
    });
    assert.equal(put.status, 200);
    const html = await (await fetch(`${app.url}/about.html`)).text();
    assert.match(html, /<h1>Edited heading<\/h1>/);
    assert.match(html, /<p>New &lt;b&gt;text&lt;\/b&gt;<\/p>/);
    const one = await fetch(`${app.url}/author/pages/about`);
    assert.equal((await one.json()).heading, 'Edited heading');
  });

  test('rejects bad edits', async () => {
    const put = (name, body) => fetch(`${app.url}/author/pages/${name}`, { method: 'PUT', body });
    assert.equal((await put('about', '{not json')).status, 400);
    assert.equal((await put('about', JSON.stringify({ colour: 'red' }))).status, 400);
    assert.equal((await put('missing', JSON.stringify({ title: 'x' }))).status, 404);
    assert.equal((await fetch(`${app.url}/author/pages/missing`)).status, 404);
    assert.equal((await fetch(`${app.url}/author/other`)).status, 404);
    assert.equal((await fetch(`${app.url}/author/pages/about`, { method: 'DELETE' })).status, 405);
  });
});

test('a throwing route answers 500 and keeps the headers', async () => {
  const app = await startApp({ pages: { byPath() { throw new Error('boom'); } } });
  try {
    const originalError = console.error;
    console.error = () => {};
    const res = await fetch(`${app.url}/about.html`).finally(() => { console.error = originalError; });
    assert.equal(res.status, 500);
    assert.equal(res.headers.get('x-app-version'), '9.9.9-test');
  } finally {
    await app.close();
  }
});
