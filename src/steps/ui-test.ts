// Custom UI Testing (Cloud Manager §10.4): opt-in by `testing.properties` (ui-tests.version=1)
// in the UI test bundle. The step provides a chromedriver (SELENIUM_BASE_URL) started inside the
// bundle's own container (or sandbox), the Chromium binary for Playwright/Puppeteer, an UPLOAD_URL for
// screenshots, and judges ONLY the JUnit XML.
import { mkdir } from 'node:fs/promises';
import { join, basename } from 'node:path';
import type { StepContext, StepHandler, StepResult } from './handler.ts';
import { UI_TEST_MARKER } from '../domain/contract.ts';
import { readWorkspaceFile } from '../runner/workspace-path.ts';
import { latestArtifact, loadContract } from './testing/execution-inputs.ts';
import { describeStage, targetEnv, targetPorts } from './testing/targets.ts';
import { filesUnder, runBundle, unpackBundle } from './testing/bundle-run.ts';
import { CHROMIUM_PATH } from './testing/browser.ts';
import { chromedriverUrl, withChromedriver } from './testing/chromedriver.ts';
import { freePort } from '../runner/free-port.ts';
import { startUploadServer } from './testing/upload-server.ts';
import { DEFAULT_TEST_TIMEOUT_MINUTES } from './functional-test.ts';

export const UI_TESTS_ARTIFACT = 'UI_TESTS';
const SCREENSHOT = /\.(png|jpe?g|webp|gif|webm|mp4)$/i;

/** True when testing.properties holds `ui-tests.version=1` (Java properties syntax). */
export function isUiTestOptIn(properties: string): boolean {
  return properties.split(/\r?\n/).some((line) => /^\s*ui-tests\.version\s*[=:]\s*1\s*$/.test(line));
}

async function readMarker(bundleDir: string): Promise<string | undefined> {
  try {
    return await readWorkspaceFile(bundleDir, UI_TEST_MARKER);
  } catch {
    return undefined;
  }
}

async function storeScreenshots(ctx: StepContext, files: { path: string; name: string }[]): Promise<number> {
  for (const file of files) {
    const blob = await ctx.artifacts.putFile(file.path);
    await ctx.recordArtifact({ ...blob, type: 'UI_TEST_SCREENSHOT', name: file.name });
  }
  return files.length;
}

export const uiTest: StepHandler = {
  action: 'uiTest',
  idempotent: true,
  async run(ctx): Promise<StepResult> {
    const bundle = await latestArtifact(ctx, UI_TESTS_ARTIFACT);
    if (!bundle) return { outcome: 'incomplete', reason: 'no UI tests' };
    const dirs = await unpackBundle(ctx, bundle);
    const marker = await readMarker(dirs.bundle);
    if (marker === undefined || !isUiTestOptIn(marker)) {
      return { outcome: 'incomplete', reason: `UI tests not enabled: ${UI_TEST_MARKER} with ui-tests.version=1 is missing from the bundle` };
    }
    const spec = (await loadContract(ctx)).tests.ui;
    if (!spec) return { outcome: 'failed', reason: 'a UI test bundle exists but the contract has no tests.ui.command' };
    const view = await describeStage(ctx);
    const uploadsDir = join(ctx.workDir, 'uploads');
    await mkdir(uploadsDir, { recursive: true });
    const uploads = await startUploadServer(uploadsDir);
    // The bundle's network is private: any port is free there; a free host port also serves a
    // machine where the sandbox shares the host's network.
    const driverPort = await freePort();
    try {
      const outcome = await runBundle(ctx, {
        kind: 'UI tests',
        dirs,
        command: spec.command,
        wrap: (places) => withChromedriver(spec.command, driverPort, places),
        timeoutMinutes: spec.timeoutMinutes ?? DEFAULT_TEST_TIMEOUT_MINUTES,
        env: {
          ...ctx.variables,
          ...targetEnv(view, ctx.variables),
          SELENIUM_BASE_URL: chromedriverUrl(driverPort),
          SELENIUM_BROWSER: 'chrome',
          CHROME_BIN: CHROMIUM_PATH,
          PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH: CHROMIUM_PATH,
          UPLOAD_URL: uploads.url,
        },
        hostPorts: [...targetPorts(view), Number(new URL(uploads.url).port)],
        resultType: 'UI_TEST_RESULTS',
      });
      const written = (await filesUnder(dirs.reports)).filter((f) => SCREENSHOT.test(f));
      const screenshots = await storeScreenshots(ctx, [
        ...uploads.uploads.map((u) => ({ path: u.path, name: u.name })),
        ...written.map((f) => ({ path: f, name: basename(f) })),
      ]);
      if (outcome.cancelled) return { outcome: 'failed', reason: 'cancelled' };
      const details = { tests: outcome.summary ?? null, reports: outcome.reportFiles.length, screenshots, exitCode: outcome.exitCode };
      if (!outcome.verdict.passed) return { outcome: 'failed', reason: outcome.verdict.reason, details };
      ctx.log.line(outcome.verdict.summary);
      return { outcome: 'finished', details };
    } finally {
      await uploads.close();
    }
  },
};
