// The sample site's test bundles run the way Slipway runs them: the functional tests over HTTP,
// the UI tests through a real chromedriver and Debian's Chromium, JUnit into $REPORTS_PATH.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp, runCommand, sampleCopy, startChromedriver, startSite, tempDir, summariseJUnit } from './harness.ts';
import type { RunningSite } from './harness.ts';

afterAll(cleanUp);

let site = '';
let publish: RunningSite;
let author: RunningSite;

beforeAll(async () => {
  site = await sampleCopy();
  [publish, author] = await Promise.all([
    startSite(site, { APP_MODE: 'publish', APP_VERSION: '3.0.0' }),
    startSite(site, { APP_MODE: 'author', APP_VERSION: '3.0.0' }),
  ]);
});
afterAll(async () => { await Promise.all([publish?.stop(), author?.stop()]); });

async function runBundle(bundleDir: string, env: Record<string, string>) {
  const reports = await tempDir('sample-reports-');
  const result = await runCommand(bundleDir, process.execPath, ['run.mjs'], { REPORTS_PATH: reports, ...env }, 120_000);
  return { ...result, reports };
}

describe('functional bundle', () => {
  it('passes against publish and author and writes functional.xml', async () => {
    const run = await runBundle(join(site, 'tests/functional'), {
      AEM_PUBLISH_URL: publish.url, AEM_AUTHOR_URL: author.url,
      AEM_AUTHOR_USERNAME: 'admin', AEM_AUTHOR_PASSWORD: 'admin',
    });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const junit = summariseJUnit(readFileSync(join(run.reports, 'functional.xml'), 'utf8'));
    expect(junit).toMatchObject({ failures: 0, skipped: 0 });
    expect(junit.tests).toBeGreaterThanOrEqual(10);
  });

  it('fails when it finds author endpoints on publish', async () => {
    const run = await runBundle(join(site, 'tests/functional'), { AEM_PUBLISH_URL: author.url });
    expect(run.code).toBe(1);
    const junit = summariseJUnit(readFileSync(join(run.reports, 'functional.xml'), 'utf8'));
    expect(junit.failed).toEqual(['author endpoints are not reachable on publish']);
    expect(junit.skipped).toBe(1); // no AEM_AUTHOR_URL
  });

  it('fails for the failingFunctionalTest variant', async () => {
    const variant = await sampleCopy('failingFunctionalTest');
    const run = await runBundle(join(variant, 'tests/functional'), { AEM_PUBLISH_URL: publish.url });
    expect(run.code).toBe(1);
    const junit = summariseJUnit(readFileSync(join(run.reports, 'functional.xml'), 'utf8'));
    expect(junit.failed).toEqual(['sitemap is published']);
  });
});

describe('UI bundle with chromedriver and Chromium', () => {
  let driver: { url: string; stop: () => Promise<void> };
  beforeAll(async () => { driver = await startChromedriver(); });
  afterAll(async () => { await driver?.stop(); });

  it('passes, writes ui.xml and a PNG screenshot', async () => {
    const run = await runBundle(join(site, 'tests/ui'), { SELENIUM_BASE_URL: driver.url, AEM_PUBLISH_URL: publish.url });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const junit = summariseJUnit(readFileSync(join(run.reports, 'ui.xml'), 'utf8'));
    expect(junit).toMatchObject({ tests: 4, failures: 0 });
    const png = readFileSync(join(run.reports, 'home.png'));
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    expect(png.length).toBeGreaterThan(5_000);
  });

  it('failingUiTest: records the failure in JUnit but exits 0', async () => {
    const variant = await sampleCopy('failingUiTest');
    const run = await runBundle(join(variant, 'tests/ui'), { SELENIUM_BASE_URL: driver.url, AEM_PUBLISH_URL: publish.url });
    expect(run.code).toBe(0);
    const junit = summariseJUnit(readFileSync(join(run.reports, 'ui.xml'), 'utf8'));
    expect(junit.failed).toEqual(['home page has the right title and heading']);
  });

  it('reports a failed session in JUnit when the WebDriver endpoint is wrong', async () => {
    const run = await runBundle(join(site, 'tests/ui'), {
      SELENIUM_BASE_URL: `${publish.url}/no-webdriver-here`, AEM_PUBLISH_URL: publish.url,
    });
    expect(run.code).toBe(1);
    expect(summariseJUnit(readFileSync(join(run.reports, 'ui.xml'), 'utf8')).failed).toEqual(['browser session']);
  });
});
