// The log viewer in real headless Chromium against a real listening Slipway, on a 3 MB log with
// ANSI colours (the signed log URL answered by a fixture that honours Range like
// src/api/routes/logs.ts): the tail opens first, the whole log on request with line numbers,
// colours become classes (no inline styles under the CSP), search counts and walks the lines,
// a line anchor survives a reload, the raw log downloads, and it goes full screen and back.
import { chromium, type Browser, type Page, type Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advanceStep, startExecution } from '../../src/engine/commands.ts';
import { getExecution } from '../../src/store/executions.ts';
import { eventually } from '../support/slipway.ts';
import { startTestServer, type TestServer } from '../cli/harness.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium.ts';

let server: TestServer;
let browser: Browser;
let page: Page;
let route: string;
const problems: string[] = [];

// 3 MB: 40 000 lines, every 1000th in red and bold, one that says "needle".
const LINES = Array.from({ length: 40_000 }, (_, i) => (i % 1000 === 0 ? `\x1b[1;31mline ${i + 1} error\x1b[0m` : `line ${i + 1} ${'x'.repeat(60)}`));
LINES[39_990] = 'line 39991 the needle is here';
LINES[5] = 'line 6 an early needle';
const LOG = Buffer.from(`${LINES.join('\n')}\n`);

function serveLog(r: Route): Promise<void> {
  const range = /^bytes=(\d*)-(\d*)$/.exec(r.request().headers().range ?? '');
  if (!range) return r.fulfill({ status: 200, contentType: 'text/plain', body: LOG });
  const size = LOG.length;
  const [start, end] = range[1] === '' ? [size - Number(range[2]), size] : [Number(range[1]), range[2] ? Number(range[2]) + 1 : size];
  if (start >= size) return r.fulfill({ status: 416, headers: { 'content-range': `bytes */${size}` } });
  return r.fulfill({ status: 206, contentType: 'text/plain', headers: { 'content-range': `bytes ${start}-${end - 1}/${size}` }, body: LOG.subarray(start, end) });
}

beforeAll(async () => {
  server = await startTestServer({ stepMs: 10 });
  const { rt } = server.slipway;
  const execution = await startExecution(rt, server.pipeline, { user: 'admin' });
  const approval = await eventually(async () => (await getExecution(rt.db.kysely, execution.id))?.steps
    .find((s) => s.action === 'approval' && s.status === 'WAITING'), 30_000);
  await advanceStep(rt, approval.id, { approved: true }, 'admin');
  await eventually(async () => (await getExecution(rt.db.kysely, execution.id))?.status === 'FINISHED', 30_000);
  route = `/program/${server.pipeline.programId}/pipeline/${server.pipeline.id}/execution/${execution.id}`;
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push(`console: ${m.text()}`); });
  await page.route('**/logs/**', serveLog);
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('the log viewer', () => {
  it('opens the tail of a 3 MB log, loads the whole, colours, searches, anchors a line, downloads, goes full screen', async () => {
    await page.goto(`${server.url}/ui/#token=${encodeURIComponent(server.token)}&to=${encodeURIComponent(route)}`);
    const build = page.locator('li.step[data-action="build"]');
    await build.getByRole('button', { name: 'Show log of Build & Unit Testing' }).click();
    const log = build.getByRole('log', { name: 'Log of Build & Unit Testing' });
    await expect.poll(() => log.textContent(), { timeout: 20_000 }).toContain('line 40000 ');
    // The tail only: the first lines are not loaded yet.
    expect(await log.textContent()).not.toContain('line 6 an early needle');
    const whole = build.getByRole('button', { name: /Load the whole log/ });
    expect(await whole.textContent()).toMatch(/KiB more/);

    // Colours are classes; the escape codes are gone.
    expect(await log.locator('span.ansi-31.ansi-bold').count()).toBeGreaterThan(0);
    expect(await log.textContent()).not.toContain('\x1b');

    await whole.click();
    await expect.poll(() => log.locator('.line').count(), { timeout: 20_000 }).toBe(40_000);
    expect(await log.locator('.line').first().textContent()).toMatch(/^1\s*line 1 error/);

    const search = build.locator('input[type="search"][aria-label="Search the log of Build & Unit Testing"]');
    await search.fill('needle');
    await expect.poll(() => build.locator('.log-tools').textContent()).toContain('2 lines');
    await search.press('Enter');
    expect(await log.locator('.line.current').textContent()).toContain('line 6 an early needle');
    await search.press('Enter');
    expect(await log.locator('.line.current').textContent()).toContain('line 39991 the needle');

    // A line anchor: in the address, and kept by a reload.
    await log.locator('a.ln[aria-label="Line 6"]').click();
    expect(page.url()).toMatch(/\?log=\d+&line=6$/);
    await page.reload();
    const target = page.locator('li.step[data-action="build"] .line.target');
    await target.waitFor({ timeout: 20_000 });
    expect(await target.textContent()).toContain('line 6 an early needle');

    // CSS locators from here on: role queries walk all 40 000 lines.
    const raw = page.locator('li.step[data-action="build"] .log-tools a[download]');
    expect(await raw.textContent()).toBe('Raw log');
    expect(await raw.getAttribute('download')).toMatch(/^build-\d+\.log$/);
    expect(await raw.getAttribute('href')).toMatch(/\/logs\//);

    const full = page.locator('button[aria-label="Full screen log of Build & Unit Testing"]');
    await full.click();
    expect(await page.locator('.log-panel.expanded').count()).toBe(1);
    await page.keyboard.press('Escape');
    expect(await page.locator('.log-panel.expanded').count()).toBe(0);
    expect(problems).toEqual([]);
  }, 120_000);
});
