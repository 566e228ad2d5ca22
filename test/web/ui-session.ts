// One listening Slipway (the CLI harness's test server), one headless Chromium and a read-only
// member, for the tests that drive the UI in the real browser. Pages opened through `open`
// report their script errors and console errors to `problems`, which a test expects empty.
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { startTestServer, type TestServer } from '../cli/harness.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium.ts';

export interface UiSession {
  /** Set once the suite's beforeAll has run. */
  server: TestServer;
  /** A DEVELOPER's token: may read, may not operate. */
  developerToken: string;
  problems: string[];
  /** Signs in with `token` and opens `route`; resolves once the page has its heading. */
  open(token: string, route: string, viewport?: { width: number; height: number }): Promise<Page>;
}

export function uiSession(): UiSession {
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  const session: UiSession = {
    server: undefined as unknown as TestServer,
    developerToken: '',
    problems: [],
    async open(token, route, viewport = { width: 1280, height: 900 }) {
      const context = await browser!.newContext({ viewport });
      contexts.push(context);
      const page = await context.newPage();
      page.on('pageerror', (e) => session.problems.push(`pageerror: ${e.message}`));
      page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) session.problems.push(`console: ${m.text()}`); });
      await page.goto(`${session.server.url}/ui/#token=${encodeURIComponent(token)}&to=${encodeURIComponent(route)}`);
      await page.locator('main h1').first().waitFor({ timeout: 20_000 });
      return page;
    },
  };

  beforeAll(async () => {
    session.server = await startTestServer({ stepMs: 20 });
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    const res = await fetch(`${session.server.url}/api/program/${session.server.pipeline.programId}/members`, {
      method: 'POST', headers: { authorization: `Bearer ${session.server.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'dana', role: 'DEVELOPER' }),
    });
    session.developerToken = ((await res.json()) as { token: string }).token;
  }, 60_000);

  afterAll(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    await session.server?.close();
  });
  return session;
}
