// Functional tests of a deployed Harbour Outfitters site, over plain HTTP (no dependencies).
// Environment (as Slipway and Cloud Manager pass it):
//   AEM_PUBLISH_URL   the site as visitors see it (through the dispatcher)      required
//   AEM_AUTHOR_URL    the author node; its editing endpoints are checked if set  optional
//   AEM_AUTHOR_USERNAME / AEM_AUTHOR_PASSWORD  sent as basic auth when set      optional
//   REPORTS_PATH      where functional.xml (JUnit) is written                  default ./reports
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCases, toJUnitXml } from './junit.mjs';

const publishUrl = (process.env.AEM_PUBLISH_URL ?? '').replace(/\/+$/, '');
const authorUrl = (process.env.AEM_AUTHOR_URL ?? '').replace(/\/+$/, '');
const reportsPath = process.env.REPORTS_PATH || 'reports';
const TIMEOUT_MS = 15_000;

function authorHeaders() {
  const user = process.env.AEM_AUTHOR_USERNAME;
  if (!user) return {};
  const token = Buffer.from(`${user}:${process.env.AEM_AUTHOR_PASSWORD ?? ''}`).toString('base64');
  return { Authorization: `Basic ${token}` };
}

async function get(url, init = {}) {
  return fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS), ...init });
}

async function expectPage(path, heading) {
  const res = await get(publishUrl + path);
  assert.equal(res.status, 200, `GET ${path}`);
  assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
  assert.ok(res.headers.get('x-app-version'), 'X-App-Version header');
  const html = await res.text();
  assert.match(html, /<html lang="en">/);
  assert.match(html, new RegExp(`<h1>${heading}</h1>`));
}

const checks = [
  ['health reports ok with a version', async () => {
    const res = await get(`${publishUrl}/health`);
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.status, 'ok');
    assert.equal(typeof body.version, 'string');
    assert.equal(res.headers.get('x-app-version'), body.version);
  }],
  ['home page', () => expectPage('/', 'Welcome to Harbour Outfitters')],
  ['about page', () => expectPage('/about.html', '[^<]+')],
  ['products page lists products', async () => {
    await expectPage('/products.html', 'Our products');
    const html = await (await get(`${publishUrl}/products.html`)).text();
    assert.ok((html.match(/<h2>/g) ?? []).length >= 3, 'at least three products');
  }],
  ['contact page has the form', async () => {
    const html = await (await get(`${publishUrl}/contact.html`)).text();
    assert.match(html, /<form [^>]*action="\/contact"/);
  }],
  ['stylesheet is served as CSS', async () => {
    const res = await get(`${publishUrl}/assets/site.css`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/css/);
    assert.match(res.headers.get('cache-control') ?? '', /max-age=\d{4,}/);
  }],
  ['pages carry a Content-Security-Policy', async () => {
    const res = await get(`${publishUrl}/`);
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
  }],
  ['contact form accepts a message', async () => {
    const res = await get(`${publishUrl}/contact`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ name: 'Functional Test', email: 'ft@example.com', message: 'Hello from the pipeline' }),
    });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /Thanks, Functional Test\./);
  }],
  ['contact form rejects an invalid message', async () => {
    const res = await get(`${publishUrl}/contact`, { method: 'POST', body: 'name=&email=nope&message=' });
    assert.equal(res.status, 400);
  }],
  ['unknown pages answer 404', async () => {
    assert.equal((await get(`${publishUrl}/no-such-page.html`)).status, 404);
  }],
  ['author endpoints are not reachable on publish', async () => {
    const status = (await get(`${publishUrl}/author/pages`)).status;
    assert.ok(status === 403 || status === 404, `expected 403 or 404, got ${status}`);
  }],
  ['author lists the editable pages', async () => {
    if (!authorUrl) return { skip: 'AEM_AUTHOR_URL is not set' };
    const res = await get(`${authorUrl}/author/pages`, { headers: authorHeaders() });
    assert.equal(res.status, 200);
    const { pages } = await res.json();
    assert.ok(pages.some((p) => p.name === 'home'), 'the home page is listed');
    return undefined;
  }],
];

async function main() {
  if (!publishUrl) {
    console.error('AEM_PUBLISH_URL is not set');
    process.exit(2);
  }
  console.log(`functional tests against ${publishUrl}${authorUrl ? ` (author ${authorUrl})` : ''}`);
  const cases = await runCases(checks);
  mkdirSync(reportsPath, { recursive: true });
  const file = join(reportsPath, 'functional.xml');
  writeFileSync(file, toJUnitXml('functional', cases));
  const failed = cases.filter((c) => c.failure !== undefined).length;
  console.log(`${cases.length} checks, ${failed} failed; report: ${file}`);
  process.exitCode = failed > 0 ? 1 : 0;
}

await main();
