// Experience audit overhead: one page, one run, through the contentAudit step (reachability
// probe, Chromium launch with a fresh profile, Lighthouse, artifacts, summary) against a bare
// programmatic Lighthouse run of the same page (Chromium launch + Lighthouse). Goal: ≤ 1.1×.
// Both alternate, 3 rounds each, against the real sample site process; medians are printed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import lighthouse from 'lighthouse';
import * as chromeLauncher from 'chrome-launcher';
import { contentAudit } from '../src/steps/content-audit.ts';
import { median } from '../src/domain/audit-compare.ts';
import { AUDIT_CHROME_FLAGS, AUDIT_SETTINGS } from '../src/steps/testing/lighthouse-runner.ts';
import { makeStepContext } from '../test/support/step-context.ts';
import { SAMPLE_SERVER, STAGE_ENVIRONMENT, StaticTopology, startNodeServer, staticView } from '../test/support/static-topology.ts';

const ROUNDS = 3;

async function bareLighthouse(url: string): Promise<number> {
  const profile = mkdtempSync(join(tmpdir(), 'bench-lh-'));
  const started = performance.now();
  const chrome = await chromeLauncher.launch({ chromePath: '/usr/bin/chromium', chromeFlags: AUDIT_CHROME_FLAGS, userDataDir: profile, logLevel: 'silent' });
  try {
    await lighthouse(url, { port: chrome.port, output: 'json', logLevel: 'error', ...AUDIT_SETTINGS });
  } finally {
    chrome.kill();
  }
  const ms = performance.now() - started;
  rmSync(profile, { recursive: true, force: true });
  return ms;
}

async function stepAudit(siteUrl: string): Promise<{ ms: number; scores: unknown }> {
  const ctx = makeStepContext({ environment: STAGE_ENVIRONMENT, driver: new StaticTopology(staticView(siteUrl, siteUrl)) });
  ctx.pipeline.options = { ...ctx.pipeline.options, auditPaths: ['/'], auditRuns: 1 };
  const started = performance.now();
  const result = await contentAudit.run(ctx);
  const ms = performance.now() - started;
  ctx.cleanup();
  const audit = result.outcome === 'finished' ? (result.details?.['audit'] as { categories?: unknown } | undefined) : undefined;
  return { ms, scores: audit?.categories };
}

export async function run(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-site-'));
  const site = await startNodeServer(SAMPLE_SERVER, { APP_MODE: 'publish', APP_DATA_DIR: dataDir });
  try {
    const bare: number[] = [];
    const step: number[] = [];
    let scores: unknown;
    await bareLighthouse(`${site.url}/`); // warm-up: disk caches for Chromium and Lighthouse
    for (let round = 0; round < ROUNDS; round++) {
      bare.push(await bareLighthouse(`${site.url}/`));
      const s = await stepAudit(site.url);
      step.push(s.ms);
      scores = s.scores;
    }
    const b = median(bare) ?? 0;
    const s = median(step) ?? 0;
    console.log(`audit: bare Lighthouse (launch + 1 run) median ${(b / 1000).toFixed(2)} s [${bare.map((x) => (x / 1000).toFixed(2)).join(', ')}]`);
    console.log(`audit: contentAudit step (1 page, 1 run) median ${(s / 1000).toFixed(2)} s [${step.map((x) => (x / 1000).toFixed(2)).join(', ')}]`);
    console.log(`audit: ratio ${(s / b).toFixed(3)}x (goal <= 1.1x); scores ${JSON.stringify(scores)}`);
  } finally {
    await site.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
