// The web UI in real headless Chromium against a real listening Slipway: sign in through the
// #token link, Deploy, watch the steps progress live (no reload), read a log, approve, see the
// execution finish with its experience audit. (The README's screenshot is taken by the
// newcomer test, on a real pipeline run.)
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../cli/harness.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium.ts';


let server: TestServer;
let browser: Browser;
let page: Page;
const problems: string[] = [];

beforeAll(async () => {
  server = await startTestServer({ stepMs: 900 });
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1360, height: 1000 } });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  // Network statuses (401 for a wrong token, 416 while a log has nothing new) are protocol, not faults.
  page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push(`console: ${m.text()}`); });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const step = (action: string, env?: string) =>
  env ? `li.step[data-action="${action}"]:has(h3:text("${env}"))` : `li.step[data-action="${action}"]`;

describe('web UI', () => {
  it('rejects a wrong token with a readable message', async () => {
    await page.goto(`${server.url}/ui/#token=not-a-valid-token-000000`);
    await expect.poll(() => page.locator('[role="alert"]').textContent(), { timeout: 20_000 }).toMatch(/not accepted/);
    expect(await page.evaluate(() => localStorage.getItem('slipway.token'))).toBeNull();
  });

  it('signs in with #token, deploys, shows live progress, approves, finishes', async () => {
    await page.goto(`${server.url}/ui/#token=${encodeURIComponent(server.token)}`);
    await page.getByRole('heading', { name: 'Programs' }).waitFor({ timeout: 20_000 });
    // The token left the address bar.
    expect(page.url()).not.toContain(server.token);
    await page.getByRole('link', { name: /^Program / }).first().click();
    await page.getByRole('button', { name: 'Deploy Production' }).click();
    await page.waitForURL(/#\/program\/\d+\/pipeline\/\d+\/execution\/\d+$/, { timeout: 20_000 });
    await page.getByRole('heading', { name: 'Stage Deployment' }).waitFor();
    await page.getByRole('heading', { name: 'Stage Testing' }).waitFor();
    await page.getByRole('heading', { name: 'Production Deployment' }).waitFor();

    // Live: a marker set now survives while the steps advance (no reload), driven by events.
    await page.evaluate(() => { (window as unknown as { marker: number }).marker = 42; });
    // The events carry the changed steps: the screen never reads the whole execution again.
    const reads: string[] = [];
    page.on('request', (r) => { if (r.method() === 'GET' && /\/execution\/\d+$/.test(new URL(r.url()).pathname)) reads.push(r.url()); });
    await page.locator(`${step('build')}[data-status="RUNNING"]`).waitFor({ timeout: 30_000 });
    await page.locator(step('build')).getByRole('button', { name: 'Show log' }).click();
    await expect.poll(() => page.locator(`${step('build')} .log`).textContent(), { timeout: 20_000 }).toContain('[test] build: part');
    await page.locator(`${step('build')}[data-status="FINISHED"]`).waitFor({ timeout: 30_000 });
    await expect.poll(() => page.locator(`${step('build')} .log`).textContent(), { timeout: 20_000 }).toContain('part 3 of 3');
    await page.locator(`${step('codeQuality')}[data-status="FINISHED"]`).waitFor({ timeout: 30_000 });
    expect(await page.locator('.title-row .live').textContent()).toBe('Live');

    // Approval waits for a person; approve it.
    const approval = page.locator(`${step('approval')}[data-status="WAITING"]`);
    await approval.waitFor({ timeout: 60_000 });
    await approval.getByRole('button', { name: 'Approve' }).click();
    await page.locator(`${step('approval')}[data-status="FINISHED"]`).waitFor({ timeout: 20_000 });
    await expect.poll(() => page.locator(step('approval')).locator('.actor').textContent()).toMatch(/Approved by admin/);

    await page.locator('.title-row .badge', { hasText: 'FINISHED' }).waitFor({ timeout: 30_000 });
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
    expect(reads).toEqual([]);

    // The experience audit: scores and the trend chart.
    const audit = page.locator('#experience-audit');
    await audit.waitFor({ timeout: 20_000 });
    expect(await audit.locator('.score').count()).toBe(4);
    await page.locator('svg.trend').waitFor();


    // The history screen lists the execution and filters it.
    await page.getByRole('link', { name: /history/ }).first().click();
    await page.getByRole('heading', { name: /execution history/ }).waitFor();
    await expect.poll(() => page.locator('tbody#executions tr').count()).toBe(1);
    await page.getByLabel('Status').selectOption('FAILED');
    await expect.poll(() => page.locator('tbody#executions tr').count()).toBe(0);

    expect(problems).toEqual([]);
  }, 180_000);
});
