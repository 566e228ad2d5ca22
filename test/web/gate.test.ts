// A quality gate in real headless Chromium against a real listening Slipway (test handlers: the
// code-quality step reports an important coverage metric below its threshold and waits): the
// attention banner names the failing metric with Cloud Manager's name, Override asks for
// confirmation listing the metrics it overrides, and the overridden gate is marked on its step
// and in the history.
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, call, makeHarness, stepIs, waitForExecution, type Harness } from '../api/harness.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium.ts';

let h: Harness;
let url: string;
let browser: Browser;
let page: Page;
const problems: string[] = [];

beforeAll(async () => {
  h = await makeHarness({ handlers: { buildLogMs: 10 } });
  url = await h.app.listen({ port: 0, host: '127.0.0.1' });
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push(`console: ${m.text()}`); });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await h?.close();
});

describe('a waiting quality gate', () => {
  it('names the failing metric, lists it in the override confirmation, and marks the gate overridden', async () => {
    const p = `/api/program/${h.programId}`;
    const id = (await call(h, 'PUT', `${p}/pipeline/${h.codeQuality.id}/execution`)).json.id as string;
    await waitForExecution(h, id, stepIs('codeQuality', 'WAITING'));
    const route = `/program/${h.programId}/pipeline/${h.codeQuality.id}/execution/${id}`;
    await page.goto(`${url}/ui/#token=${encodeURIComponent(ADMIN_TOKEN)}&to=${encodeURIComponent(route)}`);
    const banner = page.getByRole('region', { name: 'Needs attention' });
    await expect.poll(() => banner.textContent(), { timeout: 20_000 }).toMatch(/Code Scanning needs a decision: Coverage 12\.5 %, expected ≥ 50 %/);
    const gate = page.locator('li.step[data-action="codeQuality"]');
    expect(await gate.locator('table.metrics th[scope="row"]').first().textContent()).toBe('Coverage');

    await gate.getByRole('button', { name: 'Override and continue (Code Scanning)' }).click();
    const dialog = page.getByRole('dialog');
    expect(await dialog.locator('li').allTextContents()).toEqual(['Coverage 12.5 %, expected ≥ 50 %']);
    await dialog.getByLabel(/Comment/).fill('coverage comes next sprint');
    await dialog.getByRole('button', { name: 'Override' }).click();
    await page.locator('.title-row .badge', { hasText: 'FINISHED' }).waitFor({ timeout: 30_000 });
    await expect.poll(() => gate.locator('.actor').textContent(), { timeout: 20_000 })
      .toMatch(/^Overrode the failing metric by admin at .*“coverage comes next sprint”overridden$/);
    expect(await banner.isHidden()).toBe(true);

    await page.evaluate((r) => { location.hash = `#${r}`; }, `/program/${h.programId}/pipeline/${h.codeQuality.id}/history`);
    const row = page.locator('tbody#executions tr', { hasText: `Execution ${id}` });
    await row.waitFor({ timeout: 20_000 });
    expect(await row.locator('.badge', { hasText: 'overridden' }).count()).toBe(1);
    expect(problems).toEqual([]);
  }, 90_000);
});
