// Lighthouse 12 run programmatically against one headless Chromium that is reused for every
// run of a step (launching Chromium costs about half a second each time). Chromium gets a fresh
// profile directory, so no cache or cookie leaks in from anything else.
import lighthouse from 'lighthouse';
import * as chromeLauncher from 'chrome-launcher';
import { AUDIT_CATEGORIES, toPercent, type CategoryScores } from '../../domain/audit-compare.ts';
import { CHROMIUM_PATH } from './chromedriver.ts';

/** The Chromium flags that work on this machine (machine-recipes.md, item 3). */
export const AUDIT_CHROME_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export interface LighthouseRun {
  scores: CategoryScores;
  /** The raw Lighthouse result (LHR) as JSON text. */
  json: string;
  timeMs: number;
  /** Set when Lighthouse could not load the page (e.g. ERRORED_DOCUMENT_REQUEST). */
  runtimeError?: string;
}

export interface AuditBrowser {
  pid: number;
  run(url: string): Promise<LighthouseRun>;
  close(): Promise<void>;
}

export async function launchAuditBrowser(options: { userDataDir: string; signal?: AbortSignal }): Promise<AuditBrowser> {
  const chrome = await chromeLauncher.launch({
    chromePath: CHROMIUM_PATH,
    chromeFlags: AUDIT_CHROME_FLAGS,
    userDataDir: options.userDataDir,
    logLevel: 'silent',
  });
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    options.signal?.removeEventListener('abort', onAbort);
    chrome.kill();
  };
  // Killing Chromium makes a running Lighthouse fail quickly, which is what a cancel needs.
  const onAbort = (): void => { void close(); };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  return {
    pid: chrome.pid,
    close,
    async run(url) {
      options.signal?.throwIfAborted();
      const started = performance.now();
      const result = await lighthouse(url, {
        port: chrome.port,
        output: 'json',
        logLevel: 'error',
        onlyCategories: [...AUDIT_CATEGORIES],
      });
      const timeMs = performance.now() - started;
      if (!result) throw new Error(`Lighthouse returned no result for ${url}`);
      const scores: CategoryScores = {};
      for (const category of AUDIT_CATEGORIES) {
        const value = toPercent(result.lhr.categories[category]?.score);
        if (value !== undefined) scores[category] = value;
      }
      const json = typeof result.report === 'string' ? result.report : JSON.stringify(result.lhr);
      const runtimeError = result.lhr.runtimeError ? `${result.lhr.runtimeError.code}: ${result.lhr.runtimeError.message}` : undefined;
      return { scores, json, timeMs, ...(runtimeError ? { runtimeError } : {}) };
    },
  };
}
