// Experience audit overhead: through the contentAudit step (reachability probe, the sandboxed
// child with its own Node, Lighthouse and Chromium, artifacts, summary) against
// - the lower bound: Lighthouse run in this process (Chromium launch + the runs), which has
//   loaded Lighthouse and run it once before, so its modules are loaded and its code is warm;
// - the peer: the step's child run outside the sandbox, a fresh process (Node, the import of
//   Lighthouse, Chromium, one run) as a script or Lighthouse's CLI would be. What the step costs
//   over it is the sandbox's and the step's own; over the lower bound, also the cold process.
//   Unsandboxed only here, for the page of this repository's own sample site: a step never
//   runs the child outside the sandbox.
//   (Lighthouse's CLI itself lingered ~4 s here after writing its report and ending Chromium,
//   so its wall time would flatter the step.) 1 page, 1 run only.
// Goal (#6): ≤ 1.1× the lower bound for one page and one run. Also measured: one page with the
// pipeline's default of 3 runs, where the child's cold start is paid once for the three.
// Each side takes its turn in every round, 3 rounds, against the real sample site process;
// medians are printed.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import lighthouse from 'lighthouse';
import * as chromeLauncher from 'chrome-launcher';
import { contentAudit } from '../src/steps/content-audit.ts';
import { median } from '../src/domain/audit-compare.ts';
import { DEFAULT_PIPELINE_OPTIONS } from '../src/domain/model.ts';
import { CHROMIUM_PATH } from '../src/steps/testing/browser.ts';
import { AUDIT_CHROME_FLAGS, AUDIT_SETTINGS, LIGHTHOUSE_CHILD, lighthouseJob } from '../src/steps/testing/lighthouse-runner.ts';
import { makeStepContext } from '../test/support/step-context.ts';
import { SAMPLE_SERVER, STAGE_ENVIRONMENT, StaticTopology, startNodeServer, staticView } from '../test/support/static-topology.ts';
import { round, type Figures } from './figures.ts';

const ROUNDS = 3;
const DEFAULT_RUNS = DEFAULT_PIPELINE_OPTIONS.auditRuns;

async function bareLighthouse(url: string, runs: number): Promise<number> {
  const profile = mkdtempSync(join(tmpdir(), 'bench-lh-'));
  const started = performance.now();
  const chrome = await chromeLauncher.launch({ chromePath: CHROMIUM_PATH, chromeFlags: AUDIT_CHROME_FLAGS, userDataDir: profile, logLevel: 'silent' });
  try {
    for (let run = 0; run < runs; run++) await lighthouse(url, { port: chrome.port, output: 'json', logLevel: 'error', ...AUDIT_SETTINGS });
  } finally {
    chrome.kill();
  }
  const ms = performance.now() - started;
  rmSync(profile, { recursive: true, force: true });
  return ms;
}

function freshProcess(url: string): number {
  const out = mkdtempSync(join(tmpdir(), 'bench-lh-fresh-'));
  const started = performance.now();
  execFileSync(process.execPath, [LIGHTHOUSE_CHILD, JSON.stringify(lighthouseJob([url], 1, out))], { stdio: 'ignore' });
  const ms = performance.now() - started;
  const produced = existsSync(join(out, 'lhr-0-1.json'));
  rmSync(out, { recursive: true, force: true });
  if (!produced) throw new Error('the fresh Lighthouse process left no result');
  return ms;
}

async function stepAudit(siteUrl: string, runs: number): Promise<{ ms: number; scores: unknown }> {
  const ctx = makeStepContext({ environment: STAGE_ENVIRONMENT, driver: new StaticTopology(staticView(siteUrl, siteUrl)) });
  ctx.pipeline.options = { ...ctx.pipeline.options, auditPaths: ['/'], auditRuns: runs };
  const started = performance.now();
  const result = await contentAudit.run(ctx);
  const ms = performance.now() - started;
  ctx.cleanup();
  const audit = result.outcome === 'finished' ? (result.details?.['audit'] as { categories?: unknown } | undefined) : undefined;
  return { ms, scores: audit?.categories };
}

const seconds = (xs: number[]): string => `[${xs.map((x) => (x / 1000).toFixed(2)).join(', ')}]`;

export async function run(): Promise<Figures> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-site-'));
  const site = await startNodeServer(SAMPLE_SERVER, { APP_MODE: 'publish', APP_DATA_DIR: dataDir });
  const url = `${site.url}/`;
  try {
    const bare: number[] = [];
    const fresh: number[] = [];
    const step: number[] = [];
    const bareDefault: number[] = [];
    const stepDefault: number[] = [];
    let scores: unknown;
    await bareLighthouse(url, 1); // warm-up: disk caches for Chromium and Lighthouse, this process's Lighthouse
    for (let round = 0; round < ROUNDS; round++) {
      bare.push(await bareLighthouse(url, 1));
      fresh.push(freshProcess(url));
      const s = await stepAudit(site.url, 1);
      step.push(s.ms);
      scores = s.scores;
      bareDefault.push(await bareLighthouse(url, DEFAULT_RUNS));
      stepDefault.push((await stepAudit(site.url, DEFAULT_RUNS)).ms);
    }
    const [b, f, s, bd, sd] = [bare, fresh, step, bareDefault, stepDefault].map((xs) => median(xs) ?? Number.NaN) as [number, number, number, number, number];
    console.log(`audit: 1 page, 1 run, medians of ${ROUNDS}`);
    console.log(`  lower bound, Lighthouse in this process (launch + 1 run): ${(b / 1000).toFixed(2)} s ${seconds(bare)}`);
    console.log(`  peer, the step's child unsandboxed (a fresh process):    ${(f / 1000).toFixed(2)} s ${seconds(fresh)}`);
    console.log(`  the contentAudit step:                                    ${(s / 1000).toFixed(2)} s ${seconds(step)}`);
    console.log(`  ratio ${(s / b).toFixed(3)}x the lower bound (goal <= 1.1x), ${(s / f).toFixed(3)}x the fresh process; scores ${JSON.stringify(scores)}`);
    console.log(`audit: 1 page, ${DEFAULT_RUNS} runs (the pipeline's default), medians of ${ROUNDS}`);
    console.log(`  lower bound (launch + ${DEFAULT_RUNS} runs): ${(bd / 1000).toFixed(2)} s ${seconds(bareDefault)}`);
    console.log(`  the contentAudit step:        ${(sd / 1000).toFixed(2)} s ${seconds(stepDefault)}`);
    console.log(`  ratio ${(sd / bd).toFixed(3)}x the lower bound`);
    return {
      ratio: round(s / b), ratioFresh: round(s / f), stepS: round(s / 1000), bareS: round(b / 1000), freshS: round(f / 1000),
      ratioDefaultRuns: round(sd / bd),
    };
  } finally {
    await site.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
