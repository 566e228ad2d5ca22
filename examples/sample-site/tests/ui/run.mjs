// UI tests of the deployed site in a real browser, through a W3C WebDriver endpoint
// (chromedriver or a Selenium grid) at $SELENIUM_BASE_URL. No dependencies.
// Writes $REPORTS_PATH/ui.xml (JUnit) and screenshots ($REPORTS_PATH/home.png, contact-sent.png).
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCases, toJUnitXml } from './junit.mjs';
import { newSession, waitUntilReady } from './webdriver.mjs';

const seleniumUrl = (process.env.SELENIUM_BASE_URL ?? '').replace(/\/+$/, '');
const publishUrl = (process.env.AEM_PUBLISH_URL ?? '').replace(/\/+$/, '');
const reportsPath = process.env.REPORTS_PATH || 'reports';

const capabilities = {
  alwaysMatch: {
    browserName: 'chrome',
    'goog:chromeOptions': {
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--window-size=1280,900',
        '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update',
        '--disable-sync'],
      binary: process.env.CHROME_BIN || '/usr/bin/chromium',
    },
  },
};

async function saveScreenshot(session, name) {
  const png = Buffer.from(await session.screenshot(), 'base64');
  assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG', 'the screenshot is a PNG');
  writeFileSync(join(reportsPath, name), png);
}

function uiChecks(session) {
  return [
    ['home page has the right title and heading', async () => {
      await session.navigate(`${publishUrl}/`);
      assert.match(await session.title(), /^Home \| Harbour Outfitters$/);
      assert.equal(await session.text(await session.find('h1')), 'Welcome to Harbour Outfitters');
      await saveScreenshot(session, 'home.png');
    }],
    ['navigation leads to the products page', async () => {
      await session.click(await session.find('nav a[href="/products.html"]'));
      await session.waitFor(async () => (await session.title()).startsWith('Products'), 'the products page');
      assert.ok((await session.findAll('.products li')).length >= 3, 'at least three products');
    }],
    ['images have alternative text', async () => {
      await session.navigate(`${publishUrl}/`);
      for (const img of await session.findAll('img')) {
        assert.ok((await session.attribute(img, 'alt'))?.trim(), 'every image has alt text');
      }
    }],
    ['contact form can be submitted', async () => {
      await session.navigate(`${publishUrl}/contact.html`);
      await session.type(await session.find('#name'), 'UI Test');
      await session.type(await session.find('#email'), 'ui@example.com');
      await session.type(await session.find('#message'), 'Sent by the UI tests.');
      await session.click(await session.find('#contact-form button[type="submit"]'));
      const heading = await session.waitFor(async () => {
        const text = await session.text(await session.find('h1'));
        return text === 'Thank you!' ? text : undefined;
      }, 'the confirmation page');
      assert.equal(heading, 'Thank you!');
      assert.match(await session.text(await session.find('.confirmation')), /Thanks, UI Test\./);
      await saveScreenshot(session, 'contact-sent.png');
    }],
  ];
}

async function main() {
  if (!seleniumUrl || !publishUrl) {
    console.error('SELENIUM_BASE_URL and AEM_PUBLISH_URL must be set');
    process.exit(2);
  }
  mkdirSync(reportsPath, { recursive: true });
  console.log(`UI tests against ${publishUrl} via ${seleniumUrl}`);
  let cases;
  let session;
  try {
    await waitUntilReady(seleniumUrl);
    session = await newSession(seleniumUrl, capabilities);
    await session.setTimeouts({ pageLoad: 30_000, script: 10_000, implicit: 2_000 });
    cases = await runCases(uiChecks(session));
  } catch (error) {
    // No browser session: report it as one failed case so the result is still JUnit.
    cases = [{ name: 'browser session', seconds: 0, failure: String(error?.stack ?? error) }];
    console.error(String(error));
  } finally {
    await session?.delete().catch((error) => console.error(`could not delete the session: ${error}`));
  }
  const file = join(reportsPath, 'ui.xml');
  writeFileSync(file, toJUnitXml('ui', cases));
  const failed = cases.filter((c) => c.failure !== undefined).length;
  console.log(`${cases.length} checks, ${failed} failed; report: ${file}`);
  process.exitCode = failed > 0 ? 1 : 0;
}

await main();
