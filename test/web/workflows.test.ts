// What a person does next in the UI, in real headless Chromium against a real listening
// Slipway: a read-only member sees their role and no action they may not take (the banner says
// who must act), and the pipelines list update as an execution starts, without a reload; an operator creates a pipeline from its name alone and deploys it, approves
// from the attention banner, rejects with a comment that lands in the audit record, sets a
// secret that is never shown again, and grants, changes and revokes a role; on a 390 px phone no page
// scrolls sideways; each page has its own title; an environment is created, shown and deleted.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { startExecution } from '../../src/engine/commands.ts';
import { getExecution } from '../../src/store/executions.ts';
import { eventually } from '../support/slipway.ts';
import { uiSession } from './ui-session.ts';

const ui = uiSession();

const go = (page: Page, route: string) => page.evaluate((r) => { location.hash = `#${r}`; }, route);
const programRoute = () => `/program/${ui.server.pipeline.programId}`;
const executionRoute = (id: string) => `${programRoute()}/pipeline/${ui.server.pipeline.id}/execution/${id}`;

async function waitingApproval(): Promise<string> {
  const { rt } = ui.server.slipway;
  const execution = await startExecution(rt, ui.server.pipeline, { user: 'admin' });
  await eventually(async () => (await getExecution(rt.db.kysely, execution.id))?.steps
    .find((s) => s.action === 'approval' && s.status === 'WAITING'), 30_000);
  return execution.id;
}

/** Widest element sticking out of the page, if any (no page may scroll sideways). */
const overflow = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

describe('a read-only member', () => {
  it('sees their role and no action they may not take; the banner says who must act', async () => {
    const page = await ui.open(ui.developerToken, programRoute());
    await page.getByRole('heading', { name: /pipelines/ }).waitFor();
    expect(await page.locator('#user').textContent()).toContain('Developer · read only');
    await page.locator('tbody tr', { hasText: 'Production' }).waitFor();
    expect(await page.getByRole('button', { name: /Deploy/ }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'New pipeline' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: /^Edit/ }).count()).toBe(0);

    // The list follows the program's events: the execution shows up (a link to it, and what
    // it waits for) without a reload and without reading the list again.
    const listReads = () => page.evaluate(() => performance.getEntriesByType('resource').filter((e) => /\/pipelines$/.test(e.name)).length);
    await page.locator('.live[data-state="live"]').waitFor({ timeout: 20_000 });
    await expect.poll(listReads, { timeout: 20_000 }).toBe(2); // the first read, and the one once the stream is open
    await page.evaluate(() => { document.body.dataset.kept = 'yes'; });
    const id = await waitingApproval();
    const row = page.locator(`tr[data-pipeline="${ui.server.pipeline.id}"]`);
    await row.getByRole('link', { name: `Execution ${id}`, exact: true }).waitFor({ timeout: 20_000 });
    await expect.poll(() => row.textContent(), { timeout: 20_000 }).toMatch(/waiting for go-live approval/);
    expect(await listReads()).toBe(2);
    expect(await page.evaluate(() => document.body.dataset.kept)).toBe('yes');

    await go(page, executionRoute(id));
    const banner = page.getByRole('region', { name: 'Needs attention' });
    await expect.poll(() => banner.textContent(), { timeout: 20_000 }).toMatch(/Waiting for go-live approval.*your role cannot act/);
    expect(await page.getByRole('button', { name: /Approve|Reject|Cancel execution|Re-execute/ }).count()).toBe(0);
    expect(await page.title()).toBe(`Execution ${id} · Production · Slipway`);
    // The operator's view of the same execution offers the acts.
    const admin = await ui.open(ui.server.token, executionRoute(id));
    await admin.getByRole('region', { name: 'Needs attention' }).getByRole('button', { name: 'Approve' }).waitFor({ timeout: 20_000 });
    expect(await admin.getByRole('button', { name: 'Cancel execution' }).count()).toBe(1);
    await admin.getByRole('button', { name: 'Cancel execution' }).click();
    await admin.getByRole('dialog').getByLabel(/Comment/).fill('wrong branch');
    await admin.getByRole('dialog').getByRole('button', { name: 'Cancel execution' }).click();
    await expect.poll(() => admin.getByRole('region', { name: 'Needs attention' }).textContent(), { timeout: 20_000 }).toMatch(/^Cancelled by admin at /);
    await expect.poll(() => page.getByRole('region', { name: 'Needs attention' }).textContent(), { timeout: 20_000 }).toMatch(/^Cancelled by admin/);
    // Steps after the cancelled one say they never ran.
    expect(await admin.locator('li.step[data-action="deploy"][data-status="NOT_RUN"]').count()).toBe(1);
    expect(await admin.locator('li.step[data-status="NOT_RUN"] .reason').first().textContent()).toMatch(/Never ran/);
    expect(ui.problems).toEqual([]);
  }, 120_000);
});

describe('an operator', () => {
  it('creates a working production pipeline from a name alone and deploys it', async () => {
    const page = await ui.open(ui.server.token, programRoute());
    await page.getByRole('link', { name: 'New pipeline' }).click();
    await page.getByRole('heading', { name: 'New pipeline' }).waitFor();
    expect(await page.title()).toMatch(/^New pipeline · /);
    await page.getByLabel('Name').fill('Second production');
    await page.getByRole('button', { name: 'Create pipeline' }).click();
    const row = page.locator('tbody tr', { hasText: 'Second production' });
    await row.waitFor({ timeout: 20_000 });
    expect(await row.textContent()).toContain('Full stack');
    await row.getByRole('button', { name: 'Deploy Second production' }).click();
    await page.waitForURL(/execution\/\d+$/, { timeout: 20_000 });
    await page.getByRole('heading', { name: 'Production Deployment' }).waitFor({ timeout: 20_000 });

    // Edit: the form holds what was saved; a change is kept.
    await go(page, programRoute());
    await page.getByRole('link', { name: 'Edit Second production' }).click();
    await page.getByRole('heading', { name: 'Edit Second production' }).waitFor();
    expect(await page.getByLabel('Go-live approval before production').isChecked()).toBe(true);
    await page.getByLabel('Schedule the production deployment').check();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('tbody tr', { hasText: 'Second production' }).waitFor();
    const pipelines = await (await fetch(`${ui.server.url}/api/program/${ui.server.pipeline.programId}/pipelines`, { headers: { authorization: `Bearer ${ui.server.token}` } })).json() as { _embedded: { pipelines: { name: string; options: { schedule: boolean } }[] } };
    expect(pipelines._embedded.pipelines.find((p) => p.name === 'Second production')?.options.schedule).toBe(true);
    expect(ui.problems).toEqual([]);
  }, 120_000);

  it('approves from the banner, and rejects with a comment kept in the audit record', async () => {
    const page = await ui.open(ui.server.token, executionRoute(await waitingApproval()));
    const banner = page.getByRole('region', { name: 'Needs attention' });
    await banner.getByRole('button', { name: 'Approve' }).click();
    await page.locator('li.step[data-action="approval"][data-status="FINISHED"]').waitFor({ timeout: 20_000 });
    await page.locator('.title-row .badge', { hasText: 'FINISHED' }).waitFor({ timeout: 30_000 });
    expect(await banner.isHidden()).toBe(true);

    const id = await waitingApproval();
    await go(page, executionRoute(id));
    const reject = page.locator('li.step[data-action="approval"]').getByRole('button', { name: 'Reject (Go-Live Approval)' });
    await reject.click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel(/Comment/).fill('not this week');
    await dialog.getByRole('button', { name: 'Reject' }).click();
    await expect.poll(() => page.locator('li.step[data-action="approval"] .actor').textContent(), { timeout: 20_000 })
      .toMatch(/Rejected by admin at .*“not this week”/);
    await expect.poll(() => banner.textContent(), { timeout: 20_000 }).toMatch(/Failed at Go-Live Approval/);
    const stored = await getExecution(ui.server.slipway.rt.db.kysely, id);
    expect(stored?.steps.find((s) => s.action === 'approval')?.details).toMatchObject({ user: 'admin', input: { approved: false, comment: 'not this week' } });
    expect(ui.problems).toEqual([]);
  }, 120_000);

  it('sets a secret that is never shown again, and grants, changes and revokes a role', async () => {
    const page = await ui.open(ui.server.token, `${programRoute()}/pipeline/${ui.server.pipeline.id}/variables`);
    await page.getByRole('heading', { name: 'Variables of Production' }).waitFor();
    await page.getByLabel('Name').fill('API_KEY');
    await page.getByLabel('Type').selectOption('secretString');
    expect(await page.getByLabel('Value').getAttribute('type')).toBe('password');
    await page.getByLabel('Value').fill('s3cret-value-42');
    await page.getByRole('button', { name: 'Save variable' }).click();
    const row = page.locator('tr[data-variable="API_KEY"]');
    await row.waitFor({ timeout: 20_000 });
    expect(await row.textContent()).toContain('write-only');
    expect(await page.content()).not.toContain('s3cret-value-42');
    await row.getByRole('button', { name: 'Delete API_KEY' }).click();
    await page.getByText('No variables yet.').waitFor({ timeout: 20_000 });

    await go(page, `${programRoute()}/members`);
    await page.getByRole('heading', { name: /members/ }).waitFor();
    await page.locator('tr[data-member="dana"]').waitFor();
    await page.getByLabel('User name').fill('rui');
    await page.getByLabel('Role', { exact: true }).selectOption('DEPLOYMENT_MANAGER');
    await page.getByRole('button', { name: 'Grant role' }).click();
    const rui = page.getByLabel('Role of rui', { exact: true });
    await rui.waitFor({ timeout: 20_000 });
    expect(await rui.inputValue()).toBe('DEPLOYMENT_MANAGER');
    expect(await page.locator('code.token').textContent()).toMatch(/^slw_/);
    // A change of role is one step: the select, then Change role; the page reads it back.
    await rui.selectOption('PROGRAM_MANAGER');
    await page.getByRole('button', { name: 'Change the role of rui' }).click();
    await page.getByText('rui is now Program Manager').waitFor({ timeout: 20_000 });
    expect(await page.getByLabel('Role of rui', { exact: true }).inputValue()).toBe('PROGRAM_MANAGER');
    await page.getByRole('button', { name: 'Remove rui from the program' }).click();
    await expect.poll(() => page.locator('tr[data-member="rui"]').count(), { timeout: 20_000 }).toBe(0);
    expect(ui.problems).toEqual([]);
  }, 120_000);
});

describe('environments', () => {
  it('creates one (real provisioning), shows its nodes as not deployed yet once ready, and deletes it', async () => {
    const page = await ui.open(ui.server.token, `${programRoute()}/environments`);
    await page.getByRole('heading', { name: /environments/ }).waitFor();
    const form = page.getByRole('form', { name: 'Create an environment' });
    await form.getByLabel('Name').fill('qa');
    await form.getByLabel('Type').selectOption('dev');
    await form.getByLabel('Runs on').selectOption('local');
    await form.getByRole('button', { name: 'Create environment' }).click();
    const section = page.locator('section.environment', { has: page.getByRole('heading', { name: 'qa (dev, local processes)' }) });
    await section.waitFor({ timeout: 20_000 });
    // Real provisioning (the local driver, as chosen): creating, then ready with nodes that run no release yet.
    await section.locator('.badge', { hasText: 'ready' }).waitFor({ timeout: 90_000 });
    await section.locator('li.node').first().waitFor({ timeout: 20_000 });
    expect(await section.locator('.badge', { hasText: 'not deployed yet' }).count()).toBeGreaterThan(0);
    expect(await section.locator('.badge', { hasText: 'down' }).count()).toBe(0);
    await section.getByRole('button', { name: 'Delete environment qa' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete environment' }).click();
    await expect.poll(() => section.count(), { timeout: 60_000 }).toBe(0);
    expect(ui.problems).toEqual([]);
  }, 180_000);
});

describe('on a 390 px phone', () => {
  it('no page scrolls sideways', async () => {
    const id = await waitingApproval();
    const page = await ui.open(ui.server.token, programRoute(), { width: 390, height: 844 });
    const routes = [programRoute(), executionRoute(id), `${programRoute()}/pipeline/${ui.server.pipeline.id}/history`,
      `${programRoute()}/environments`, `${programRoute()}/members`, `${programRoute()}/pipelines/new`,
      `${programRoute()}/pipeline/${ui.server.pipeline.id}/variables`, `${programRoute()}/webhooks`, '/'];
    for (const route of routes) {
      await go(page, route);
      await page.locator('main h1').first().waitFor();
      await page.waitForTimeout(300);
      const wide = await page.evaluate(() => Array.from(document.querySelectorAll('main *')).filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
        .slice(-5).map((e) => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`));
      expect(await overflow(page), `${route}: ${wide.join(', ')}`).toBeLessThanOrEqual(0);
    }
    // The approval is reachable at the top of the execution screen.
    await go(page, executionRoute(id));
    const approve = page.getByRole('region', { name: 'Needs attention' }).getByRole('button', { name: 'Approve' });
    await approve.waitFor({ timeout: 20_000 });
    const box = await approve.boundingBox();
    expect(box && box.y + box.height).toBeLessThanOrEqual(844);
    expect(ui.problems).toEqual([]);
  }, 120_000);
});
