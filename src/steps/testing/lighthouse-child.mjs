// Child process of the contentAudit step, run inside the sandbox as the unprivileged user:
// launches one headless Chromium (a fresh profile in the workspace) and runs Lighthouse once per
// (page, run), writing each raw result to <out>/lhr-<page>-<run>.json. Lighthouse and its browser
// stay out of Slipway's process: a stray rejection from Lighthouse after its browser is gone
// ends this process, never the server (the parent reads the files and judges).
// Input: argv[2] = JSON {urls, runs, chromePath, chromeFlags, settings, out}.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as chromeLauncher from 'chrome-launcher';

const job = JSON.parse(process.argv[2] ?? '{}');
const fail = (err) => {
  console.log(`lighthouse: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(3);
};
process.on('unhandledRejection', fail);
process.on('uncaughtException', fail);

// Lighthouse's modules load (0.6–0.8 s in a cold process) while Chromium starts (~0.5 s), not
// before it: the step took ~0.4 s less (bench: audit). Should the import fail, `fail` says so.
const loading = import('lighthouse').then((module) => module.default);

const profile = join(job.out, 'chrome-profile');
mkdirSync(profile, { recursive: true });
const chrome = await chromeLauncher.launch({
  chromePath: job.chromePath,
  chromeFlags: job.chromeFlags,
  userDataDir: profile,
  logLevel: 'silent',
});
console.log(`chromium ${chrome.pid} started as uid ${process.getuid()}`);
const lighthouse = await loading;

/** One Lighthouse run: its JSON report and the runtime error Lighthouse recorded, if any. */
async function audit(url) {
  const result = await lighthouse(url, { port: chrome.port, output: 'json', logLevel: 'error', ...job.settings });
  if (!result) throw new Error(`Lighthouse returned no result for ${url}`);
  const report = typeof result.report === 'string' ? result.report : JSON.stringify(result.lhr);
  return { report, runtimeError: result.lhr.runtimeError };
}

for (const [page, url] of job.urls.entries()) {
  for (let run = 1; run <= job.runs; run++) {
    const base = join(job.out, `lhr-${page}-${run}`);
    // A run on a busy machine can miss Lighthouse's own load deadlines (NO_FCP, PAGE_HUNG, a
    // protocol timeout) for a page that is fine: each run gets one second attempt, and the
    // parent judges whatever the last attempt produced.
    for (let attempt = 1; attempt <= 2; attempt++) {
      const started = performance.now();
      try {
        const { report, runtimeError } = await audit(url);
        writeFileSync(`${base}.json`, report);
        writeFileSync(`${base}.ms`, String(Math.round(performance.now() - started)));
        if (!runtimeError) break;
        console.log(`lighthouse: ${url} run ${run} attempt ${attempt}: ${runtimeError.code}`);
      } catch (err) {
        // A failed run is reported by its error file (and no result file); the retry or the
        // next run gets its chance.
        writeFileSync(`${base}.error`, err instanceof Error ? err.message : String(err));
        console.log(`lighthouse: ${url} run ${run} attempt ${attempt}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
}
chrome.kill();
process.exit(0);
