// Details of the UI screens in real headless Chromium against a real listening Slipway: the
// live indicator (shown while an execution runs and its event stream is connected, gone once it
// has ended), Slipway's pipeline type in the pipelines list, the image digests on the
// environments screen (topology answered by a fixture: the test server provisions no nodes, and
// a deploy's progress by a fixture event stream) and
// one environment alone (where the API's developerConsole link leads),
// and the deploy step's per-node table with its rollback notice (the real module, fed details
// shaped like src/steps/deploy.ts writes them).
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advanceStep, reExecute, startExecution } from '../../src/engine/commands.ts';
import { getExecution, listExecutions } from '../../src/store/executions.ts';
import { eventually } from '../support/slipway.ts';
import { startTestServer, type TestServer } from '../cli/harness.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium.ts';

let server: TestServer;
let browser: Browser;
let page: Page;
const problems: string[] = [];

beforeAll(async () => {
  server = await startTestServer({ stepMs: 30 });
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1360, height: 1000 } });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push(`console: ${m.text()}`); });
  await page.goto(`${server.url}/ui/#token=${encodeURIComponent(server.token)}`);
  await page.getByRole('heading', { name: 'Programs' }).waitFor({ timeout: 20_000 });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const go = (route: string) => page.evaluate((r) => { location.hash = `#${r}`; }, route);

describe('UI screens', () => {
  it('shows a live indicator while an execution runs, and nothing about live updates once it ended', async () => {
    const { rt } = server.slipway;
    const execution = await startExecution(rt, server.pipeline, { user: 'admin' });
    const approval = await eventually(async () => (await getExecution(rt.db.kysely, execution.id))?.steps
      .find((s) => s.action === 'approval' && s.status === 'WAITING'), 30_000);
    const route = `/program/${server.pipeline.programId}/pipeline/${server.pipeline.id}/execution/${execution.id}`;
    await go(route);
    const live = page.locator('.title-row .live');
    await expect.poll(() => live.textContent(), { timeout: 20_000 }).toBe('Live');
    expect(await live.isVisible()).toBe(true);

    await advanceStep(rt, approval.id, { approved: true }, 'admin');
    await page.locator('.title-row .badge', { hasText: 'FINISHED' }).waitFor({ timeout: 30_000 });
    await expect.poll(() => live.isVisible(), { timeout: 10_000 }).toBe(false);

    // Opened afresh, an ended execution says nothing about connecting.
    await go(`/program/${server.pipeline.programId}`);
    await page.getByRole('heading', { name: /pipelines/ }).waitFor();
    await go(route);
    await page.locator('.title-row .badge', { hasText: 'FINISHED' }).waitFor({ timeout: 20_000 });
    await page.waitForTimeout(500);
    expect(await page.locator('main').textContent()).not.toMatch(/Connecting/);
    expect(await live.isVisible()).toBe(false);
    expect(await live.textContent()).toBe('');
  }, 90_000);

  it("labels a re-execution's build step 'Copy Artifacts'", async () => {
    const { rt } = server.slipway;
    const [last] = (await listExecutions(rt.db.kysely, server.pipeline.id, 0, 1)).executions;
    const deploy = last?.steps.find((s) => s.action === 'deploy' && s.environmentType === 'prod');
    const again = await reExecute(rt, server.pipeline.id, deploy?.id ?? '', 'admin');
    await go(`/program/${server.pipeline.programId}/pipeline/${server.pipeline.id}/execution/${again.id}`);
    await page.locator('.title-row .badge', { hasText: 'FINISHED' }).waitFor({ timeout: 30_000 });
    const titles = await page.locator('li.step h3').allTextContents();
    expect(titles).toEqual(['Validation', 'Copy Artifacts', 'Deploy to Production']);
  }, 60_000);

  it("lists the pipeline with Slipway's own type", async () => {
    await go(`/program/${server.pipeline.programId}`);
    const row = page.locator('tbody tr', { hasText: 'Production' });
    await row.waitFor({ timeout: 20_000 });
    expect(await row.locator('th').textContent()).toContain('Full stack');
    expect(await row.locator('th').textContent()).not.toContain('CI_CD');
  });

  it('shows the short image digest of each node (the full one for tooltips and screen readers), and what a running deploy does to a node now', async () => {
    const app = `sha256:${'ab12cd34ef56'}${'0'.repeat(52)}`;
    const dispatcher = `sha256:${'99887766aabb'}${'1'.repeat(52)}`;
    const node = (name: string, role: string, release?: Record<string, string>) =>
      ({ name, role, url: 'http://127.0.0.1:1', healthy: true, ...(release ? { release } : {}) });
    await page.route('**/api/program/*/environment/*/topology', (r) => r.fulfill({
      contentType: 'application/json',
      body: JSON.stringify({
        environmentId: '1', author: node('author', 'author', { version: '1.0.7', appImage: app }),
        publish: [node('publish-1', 'publish', { version: '1.0.7', appImage: app })],
        dispatchers: [{ ...node('dispatcher-1', 'dispatcher', { version: '1.0.7', dispatcherImage: dispatcher }), lbState: 'READY' }],
        loadBalancer: node('lb', 'loadBalancer'),
      }),
    }));
    // The program's event stream says a deployment is draining dispatcher-1 of every environment.
    const listed = await fetch(`${server.url}/api/program/${server.pipeline.programId}/environments`, { headers: { authorization: `Bearer ${server.token}` } });
    const ids = ((await listed.json()) as { _embedded: { environments: { id: string }[] } })._embedded.environments.map((e) => e.id);
    const at = new Date().toISOString();
    const frames = ids.map((environmentId) => `event: step.updated\ndata: ${JSON.stringify({
      type: 'step.updated', programId: server.pipeline.programId, action: 'deploy', status: 'RUNNING', at,
      step: { action: 'deploy', status: 'RUNNING', environmentId, rollout: { version: '1.0.8', nodes: { 'dispatcher-1': { action: 'drain', status: 'RUNNING', at } } } },
    })}\n\n`).join('');
    await page.route('**/api/program/*/events/stream', (r) => r.fulfill({ contentType: 'text/event-stream', body: frames }));
    try {
      await go(`/program/${server.pipeline.programId}/environments`);
      const draining = page.locator('li.node[data-node="dispatcher-1"][data-action="drain"]').first();
      await draining.waitFor({ timeout: 20_000 });
      expect(await draining.locator('.node-now').textContent()).toBe('Now: drain — running (release 1.0.8)');
      expect(await page.locator('li.node[data-node="publish-1"] .node-now').first().isHidden()).toBe(true);
      const publish = page.locator('li.node[data-node="publish-1"]').first();
      await publish.waitFor({ timeout: 20_000 });
      const digest = publish.locator('code.digest');
      expect(await digest.textContent()).toBe('ab12cd34ef56');
      expect(await digest.getAttribute('title')).toBe(app);
      expect(await publish.locator('.sr-only').textContent()).toBe(app);
      const dispatcherBox = page.locator('li.node[data-node="dispatcher-1"]').first();
      expect(await dispatcherBox.locator('code.digest').textContent()).toBe('99887766aabb');
      expect(await dispatcherBox.textContent()).toContain('Dispatcher image');
    } finally {
      await page.unroute('**/api/program/*/environment/*/topology');
      await page.unroute('**/api/program/*/events/stream');
    }
  });

  it("shows one environment at the API's developerConsole link", async () => {
    const programId = server.pipeline.programId;
    const res = await fetch(`${server.url}/api/program/${programId}/environments`, { headers: { authorization: `Bearer ${server.token}` } });
    const environments = ((await res.json()) as { _embedded: { environments: { id: string; name: string }[] } })._embedded.environments;
    expect(environments.length).toBeGreaterThan(1);
    const [first] = environments as [{ id: string; name: string }];
    await go(`/program/${programId}/environment/${first.id}`);
    await page.locator(`#env-${first.id}`).waitFor({ timeout: 20_000 });
    await expect.poll(() => page.locator('section.environment').count(), { timeout: 20_000 }).toBe(1);
    await go(`/program/${programId}/environment/999999`);
    await page.getByText('has no environment 999999').waitFor({ timeout: 20_000 });
  });

  it('shows a deploy step as a per-node table that updates in place, and its rollback', async () => {
    await go(`/program/${server.pipeline.programId}`);
    await page.getByRole('heading', { name: /pipelines/ }).waitFor();
    // The real module, run in the page: a running deploy, then the same step rolled back.
    // (A string, so vitest leaves this import() alone.)
    await page.evaluate("import('/ui/js/deploy-view.js').then((m) => { window.deployView = m; })");
    await page.evaluate(() => {
      interface Panel { el: HTMLElement; update(step: unknown): void }
      const { DeployPanel } = (window as unknown as { deployView: { DeployPanel: new (step: unknown) => Panel } }).deployView;
      const at = '2024-01-01T00:00:00.000Z';
      const deploy = { environmentId: '1', version: '1.0.8', appImage: 'sha256:aa', dispatcherOnly: false };
      const cmd = (node: string, action: string, status: string, message?: string) =>
        ({ node, action, status, at, ...(message ? { message } : {}) });
      const running = [cmd('author', 'deploy', 'RUNNING', '1.0.8'), cmd('author', 'deploy', 'FINISHED', '1.0.8'),
        cmd('dispatcher-1', 'drain', 'RUNNING'), cmd('dispatcher-1', 'drain', 'FINISHED'),
        cmd('dispatcher-1,dispatcher-2', 'drainWait', 'RUNNING'), cmd('publish-1', 'deploy', 'RUNNING', '1.0.8')];
      // As src/steps/deploy-details.ts writes them: Cloud Manager's string next to Slipway's record.
      const step = (status: string, commands: unknown[]) => ({ id: 'fixture', action: 'deploy', status,
        details: { deployCommands: '[]', rollout: { ...deploy, commands, nodes: {}, done: { author: true, pairs: [] } } } });
      const panel = new DeployPanel(step('RUNNING', running));
      document.getElementById('main')?.append(panel.el);
      // The rollback, applied when the test asks for it.
      (window as unknown as { rollBack: () => void }).rollBack = () => panel.update(step('ROLLED_BACK', [...running,
        cmd('publish-1', 'deploy', 'FAILED', 'health check failed'),
        cmd('publish-1', 'rollback', 'RUNNING', '1.0.7'), cmd('publish-1', 'rollback', 'FINISHED', '1.0.7')]));
    });
    const panel = page.locator('.deploy-panel');
    await panel.waitFor({ timeout: 10_000 });
    const row = (node: string) => panel.locator(`tr[data-node="${node}"]`);
    expect(await panel.locator('tbody tr').count()).toBe(4);
    // The deployment's own version (in the headline) reads "this release" in the table.
    expect(await panel.locator('.deploy-headline').textContent()).toContain('Release 1.0.8');
    expect(await row('author').textContent()).toMatch(/deploy.*FINISHED.*this release/);
    expect(await row('dispatcher-2').textContent()).toContain('wait for requests to end');
    expect(await row('publish-1').locator('td').last().textContent()).toBe('→ this release');
    const all = panel.locator('details.deploy-commands');
    expect(await all.getAttribute('open')).toBeNull();
    expect(await all.locator('summary').textContent()).toBe('All deploy commands (6)');

    // Opened by keyboard, the list stays open while the deploy goes on and rolls back.
    await all.locator('summary').focus();
    await page.keyboard.press('Enter');
    expect(await all.getAttribute('open')).toBe('');
    await page.evaluate(() => (window as unknown as { rollBack: () => void }).rollBack());
    expect(await all.getAttribute('open')).toBe('');
    expect(await all.locator('li').count()).toBe(9);
    expect(await panel.locator('[role="status"]').textContent()).toMatch(/^Rolled back/);
    expect(await row('publish-1').textContent()).toMatch(/rollback.*FINISHED.*1\.0\.7previous/);
    expect(problems).toEqual([]);
  });
  it('shows test totals with the failed tests, and the code-scanning summary, with readable metric names', async () => {
    await go(`/program/${server.pipeline.programId}`);
    await page.getByRole('heading', { name: /pipelines/ }).waitFor();
    // The real modules, fed details shaped as src/steps/build.ts, ui-test.ts and code-quality.ts write them.
    await page.evaluate("Promise.all([import('/ui/js/evidence.js'), import('/ui/js/metrics.js')]).then(([e, m]) => { window.evidence = e; window.metrics = m; })");
    const text = await page.evaluate(async () => {
      interface Modules { evidence: { evidenceOf(step: unknown): Promise<Node[]> }; metrics: { metricsTable(m: unknown[]): Node } }
      const { evidence, metrics } = window as unknown as Modules;
      const box = document.createElement('div');
      box.id = 'evidence-fixture';
      box.append(...await evidence.evidenceOf({ action: 'uiTest', status: 'FAILED', ended: false, details: {
        tests: { tests: 5, failures: 1, errors: 0, skipped: 1, failed: [{ suite: 'Home', name: 'has a title', message: 'expected Slipway' }] } } }));
      box.append(...await evidence.evidenceOf({ action: 'codeQuality', status: 'FINISHED', ended: false, details: {
        scan: { files: 3, linesOfCode: 120, issues: 2, vulnerabilities: 0, bugs: 1, codeSmells: 1, coverage: { coverage: 39.5 }, duplicatedLinesDensity: 0 } } }));
      box.append(metrics.metricsTable([{ kpi: 'coverage', severity: 'important', passed: false, override: false, actualValue: '39.5', expectedValue: '50', comparator: 'GTE' },
        { kpi: 'sqale_rating', severity: 'important', passed: true, override: false, actualValue: 'A', expectedValue: 'A', comparator: 'EQ' }]));
      document.getElementById('main')?.append(box);
      return box.textContent ?? '';
    });
    expect(text).toContain('UI tests: 5 run, 3 passed, 1 failed, 1 skipped');
    expect(text).toContain('Home › has a title: expected Slipway');
    expect(text).toContain('2 issues — 0 vulnerabilities, 1 bugs, 1 code smells; coverage 39.5 %');
    expect(text).toContain('Coverage');
    expect(text).toContain('Maintainability Rating');
    expect(text).toContain('≥ 50 %');
    expect(problems).toEqual([]);
  });
});
