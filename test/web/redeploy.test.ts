// "Redeploy this release" in real headless Chromium against a real listening Slipway: a
// read-only member sees no such button; an operator finds it on the earlier live release in the
// history (not on the last one, which re-executes) and on that execution's screen, reads in the
// confirmation what goes live again and where, and lands on the new RE_EXECUTE execution. On
// the environments screen each node's release links to the execution that deployed it
// (topology answered by a fixture: the test server provisions no nodes; the API test
// test/api/redeploy.test.ts checks the real answer).
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { advanceStep, startExecution } from '../../src/engine/commands.ts';
import { getExecution } from '../../src/store/executions.ts';
import { eventually } from '../support/slipway.ts';
import { STAND_IN_COMMIT } from '../cli/harness.ts';
import { uiSession } from './ui-session.ts';

const ui = uiSession();

/** An execution approved and finished (its release went live); its id and artifacts version. */
async function live(): Promise<{ id: string; version: string }> {
  const { rt } = ui.server.slipway;
  const execution = await startExecution(rt, ui.server.pipeline, { user: 'admin' });
  const approval = await eventually(async () => (await getExecution(rt.db.kysely, execution.id))?.steps
    .find((s) => s.action === 'approval' && s.status === 'WAITING'), 30_000);
  await advanceStep(rt, approval.id, { approved: true }, 'admin');
  const done = await eventually(async () => {
    const e = await getExecution(rt.db.kysely, execution.id);
    return e?.status === 'FINISHED' && e;
  }, 30_000);
  return { id: done.id, version: done.artifactsVersion ?? '' };
}

const pipelineRoute = () => `/program/${ui.server.pipeline.programId}/pipeline/${ui.server.pipeline.id}`;
const row = (page: Page, id: string) => page.locator('#executions tr', { has: page.getByRole('link', { name: `Execution ${id}`, exact: true }) });

describe('redeploy this release', () => {
  it('is offered on an earlier live release to an operator only, says what goes where, and starts the redeploy', async () => {
    const first = await live();
    const second = await live();
    const name = (id: string) => `Redeploy this release (execution ${id})`;

    const reader = await ui.open(ui.developerToken, `${pipelineRoute()}/history`);
    await row(reader, first.id).waitFor({ timeout: 20_000 });
    expect(await reader.getByRole('button', { name: /Redeploy/ }).count()).toBe(0);

    const page = await ui.open(ui.server.token, `${pipelineRoute()}/history`);
    const button = row(page, first.id).getByRole('button', { name: name(first.id) });
    await button.waitFor({ timeout: 20_000 });
    expect(await row(page, second.id).getByRole('button', { name: /Redeploy/ }).count()).toBe(0);
    // Going back changes nothing.
    await button.click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Go back' }).click();
    expect(await dialog.count()).toBe(0);

    // The execution screen offers the same act.
    await page.evaluate((r) => { location.hash = `#${r}`; }, `${pipelineRoute()}/execution/${first.id}`);
    await page.getByRole('button', { name: name(first.id) }).click();
    const items = await dialog.locator('li').allTextContents();
    expect(items).toEqual([`Release (artifacts) ${first.version}`, `Commit ${STAND_IN_COMMIT.slice(0, 10)}`, 'To prod (production)']);
    expect(await dialog.getByLabel(/Comment/).count()).toBe(0);
    await dialog.getByRole('button', { name: 'Redeploy this release' }).click();

    const executionOf = (url: string) => /\/execution\/(\d+)$/.exec(url)?.[1];
    await page.waitForURL((url) => ![undefined, first.id].includes(executionOf(url.href)), { timeout: 20_000 });
    const id = executionOf(page.url()) ?? '';
    await expect.poll(async () => (await getExecution(ui.server.slipway.rt.db.kysely, id))?.status, { timeout: 30_000 }).toBe('FINISHED');
    const redeployed = await getExecution(ui.server.slipway.rt.db.kysely, id);
    expect(redeployed).toMatchObject({ trigger: 'RE_EXECUTE', sourceExecutionId: first.id, artifactsVersion: first.version });
    await page.locator('.title-row .badge', { hasText: 'FINISHED' }).waitFor({ timeout: 20_000 });
    expect(await page.locator('dl.summary').textContent()).toContain('RE_EXECUTE');
    expect(ui.problems).toEqual([]);
  }, 120_000);

  it("links each node's release to the execution that deployed it", async () => {
    const page = await ui.open(ui.server.token, `/program/${ui.server.pipeline.programId}`);
    const pl = ui.server.pipeline.id;
    const node = (name: string, role: string, release?: Record<string, string>) =>
      ({ name, role, url: 'http://127.0.0.1:1', healthy: true, ...(release ? { release } : {}) });
    await page.route('**/api/program/*/environment/*/topology', (r) => r.fulfill({
      contentType: 'application/json',
      body: JSON.stringify({
        environmentId: '1', author: node('author', 'author', { version: '1.0.7', executionId: '7', pipelineId: pl }),
        publish: [node('publish-1', 'publish', { version: '1.0.6' })],
        dispatchers: [node('dispatcher-1', 'dispatcher')], loadBalancer: node('lb', 'loadBalancer'),
      }),
    }));
    await page.evaluate((r) => { location.hash = `#${r}`; }, `/program/${ui.server.pipeline.programId}/environments`);
    const author = page.locator('li.node[data-node="author"]').first();
    await author.waitFor({ timeout: 20_000 });
    const link = author.getByRole('link', { name: /1\.0\.7/ });
    expect(await link.getAttribute('href')).toBe(`#/program/${ui.server.pipeline.programId}/pipeline/${pl}/execution/7`);
    expect(await link.textContent()).toBe('1.0.7 (execution 7)');
    // A release the API names no execution for is shown as text.
    expect(await page.locator('li.node[data-node="publish-1"]').first().getByRole('link', { name: /1\.0\.6/ }).count()).toBe(0);
    expect(ui.problems).toEqual([]);
  }, 60_000);
});
