// What the build step costs on top of the build itself: the step's wall time (checkout, contract,
// sandbox, reports, images of sources and outputs) minus the same build command run in a plain
// shell on a plain clone. Fixture: examples/sample-site, committed to a temp repo. As in a
// pipeline, each step finds the commit that validate fetched and checked out in its execution's
// dir (before the step, not timed, like the plain run's clone, which checks out too); the step
// without it (validate ran on another host's engine: the build fetches the branch itself) is
// timed as well and shown apart. The steps share one data dir, as in a server (each its own work
// dir, and its own artifact store: every step writes its images, none finds them stored by the
// one before). The first build's chain and the launchers are started before the runs, as a
// Slipway process with an engine does; every run (step, plain, sandbox floor) starts once the
// next ones are up, as when builds are more than a second apart (runner/sandbox-ahead.ts,
// runner/launcher.ts: their start disturbs what runs beside it).
// One pair runs first, untimed: as in a server that has run builds, Slipway's code on the step's
// path is compiled, and the sample site's files are in the page cache for both sides (the first
// pairs of a cold process differed by 300–420 ms, the later ones by -94 to 228 ms).
// The machine drifts (another process, the page cache, CPU frequency: a plain run varies by
// +-100 ms over a bench), so each step run is paired with the plain run next to it (which of the
// two goes first alternates), and the overhead is the median of the paired differences (its
// percentage: of the plain runs' median). The difference of the two medians, the figure of
// earlier versions, is printed beside it.
// Also shown, not subtracted: the step's time around its sandboxed run (per run: the step's
// wall time minus its command's, from the command being sent to the sandbox started during the
// checkout to its end, both from the same run, so a busy machine's drift between the two sides
// does not enter it) and what the sandbox itself costs (`true` run with the build's own
// limits, network and bound dirs, in a chain started ahead), the part of the overhead that
// isolation needs whatever the step does around it.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseContract } from '../src/domain/contract.ts';
import { buildEnvironment } from '../src/steps/build-env.ts';
import { BUILD_LIMITS, buildHandler } from '../src/steps/build.ts';
import { FsArtifactStore } from '../src/artifacts/fs-store.ts';
import { fetchCommit } from '../src/runner/fetched-commit.ts';
import { resolveBranch } from '../src/runner/git.ts';
import { runSandboxed, sandboxWarm, warmUpSandbox } from '../src/runner/sandbox.ts';
import { makeStepContext } from '../test/support/step-context.ts';
import { round, type Figures } from './figures.ts';

const SAMPLE = resolve(import.meta.dirname, '..', 'examples', 'sample-site');
const RUNS = 15;
const FETCHING_RUNS = 5;
const GENERATED = new Set(['node_modules', 'dist', 'reports', 'coverage']);

const git = (cwd: string, ...args: string[]): string =>
  execFileSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.com', ...args], { cwd, encoding: 'utf8' }).trim();

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

export async function run(): Promise<Figures | void> {
  if (!existsSync(SAMPLE)) {
    console.log('build-overhead: examples/sample-site is missing; skipped');
    return;
  }
  const root = mkdtempSync(join(tmpdir(), 'slipway-bench-build-'));
  try {
    git(root, 'init', '--quiet', '--bare', '-b', 'main', 'repo.git');
    const url = `file://${join(root, 'repo.git')}`;
    const work = join(root, 'work');
    cpSync(SAMPLE, work, { recursive: true, filter: (src) => !GENERATED.has(src.slice(SAMPLE.length + 1).split('/')[0] ?? '') });
    git(work, 'init', '--quiet', '-b', 'main');
    git(work, 'add', '-A');
    git(work, 'commit', '--quiet', '-m', 'sample');
    git(work, 'push', '--quiet', url, 'HEAD:main');
    const command = parseContract(parseYaml(readFileSync(join(work, 'slipway.yaml'), 'utf8'))).build.command;

    const commit = await resolveBranch(url, 'main');
    const dataDir = join(root, 'data');
    warmUpSandbox({ dataDir, limits: BUILD_LIMITS });
    let steps = 0;

    /** The machine settled: the next warm network and launchers are up (their start disturbs what runs beside it). */
    const settled = async (): Promise<void> => {
      for (let waited = 0; waited < 10_000 && !sandboxWarm(); waited += 10) await new Promise((r) => setTimeout(r, 10));
    };
    const stepMs: number[] = [];
    const sandboxMs: number[] = [];
    const fetchingAroundMs: number[] = [];
    const plainMs: number[] = [];
    /** One build step; `kept`: validate's fetched commit is there. Returns the time around its command. */
    const step = async (kept = true, timed = true): Promise<number> => {
      const n = steps++;
      const ctx = makeStepContext({ dataDir, workDir: join(dataDir, 'work', `e${n}`, 's1'), artifacts: new FsArtifactStore(join(root, `store-${n}`)) });
      ctx.repository.url = url;
      try {
        if (kept) await fetchCommit(url, commit, dirname(ctx.workDir), async () => undefined);
        const started = performance.now();
        const result = await buildHandler.run(ctx);
        const ms = performance.now() - started;
        if (result.outcome !== 'finished') throw new Error(`build step ${result.outcome}: ${'reason' in result ? result.reason : ''}`);
        if (kept && timed) {
          stepMs.push(ms);
          sandboxMs.push(Number(ctx.details.durationMs));
        }
        return ms - Number(ctx.details.durationMs);
      } finally {
        rmSync(dirname(ctx.workDir), { recursive: true, force: true });
      }
    };
    const plainRun = (i: number | string, timed = true): void => {
      const plainDir = join(root, `plain-${i}`);
      git(root, 'clone', '--quiet', url, plainDir);
      // The same environment as in the sandbox (fresh HOME, no inherited npm_* settings).
      const homeDir = join(root, `plain-home-${i}`);
      const tmpDir = join(root, `plain-tmp-${i}`);
      mkdirSync(homeDir);
      mkdirSync(tmpDir);
      const env = buildEnvironment({
        branch: 'main', pipelineId: '1', pipelineName: 'bench', programId: '1', programName: 'bench',
        artifactsVersion: '0', homeDir, tmpDir, cacheDir: join(root, `plain-cache-${i}`), variables: {},
      });
      const started = performance.now();
      const plain = spawnSync('/bin/sh', ['-c', command], { cwd: plainDir, stdio: 'ignore', env });
      if (timed) plainMs.push(performance.now() - started);
      if (plain.status !== 0) throw new Error(`plain build failed: ${plain.status}`);
    };
    await settled();
    await step(true, false);
    await settled();
    plainRun('first', false);
    for (let i = 0; i < RUNS; i++) {
      // A pair: the step and the plain run next to it, in alternating order.
      if (i % 2 === 0) { await settled(); await step(); await settled(); plainRun(i); } else { await settled(); plainRun(i); await settled(); await step(); }
    }
    for (let i = 0; i < FETCHING_RUNS; i++) { await settled(); fetchingAroundMs.push(await step(false)); }
    // The sandbox's own start and end, as the build uses it (what `true` costs in it).
    const startMs: number[] = [];
    const dirs = ['ws', 'home', 'tmp', 'cache'].map((d) => join(dataDir, 'work', 'floor', d));
    for (const dir of dirs) mkdirSync(dir, { recursive: true });
    for (let i = 0; i < RUNS; i++) {
      await settled();
      const started = performance.now();
      const floor = await runSandboxed({
        command: 'true', workspace: dirs[0] ?? '', writablePaths: dirs.slice(1), hidePaths: [dataDir],
        env: {}, timeoutMs: 60_000, limits: BUILD_LIMITS, network: { outbound: true }, onOutput: () => undefined, log: () => undefined,
      });
      startMs.push(performance.now() - started);
      if (floor.exitCode !== 0) throw new Error(`sandboxed true failed: ${floor.exitCode}`);
    }
    const stepMedian = median(stepMs);
    const aroundMs = stepMs.map((ms, i) => ms - (sandboxMs[i] ?? Number.NaN));
    const plain = median(plainMs);
    const pairedMs = stepMs.map((ms, i) => ms - (plainMs[i] ?? Number.NaN));
    const overheadMs = median(pairedMs);
    const overheadPercent = (overheadMs / plain) * 100;
    const mediansMs = stepMedian - plain;
    console.log(`build-overhead: examples/sample-site, "${command}", median of ${RUNS}`);
    console.log(`  build step:  ${stepMedian.toFixed(0)} ms  (runs: ${stepMs.map((m) => m.toFixed(0)).join(', ')})`);
    console.log(`    of which the command in the sandbox: ${median(sandboxMs).toFixed(0)} ms`);
    console.log(`  plain shell: ${plain.toFixed(0)} ms  (runs: ${plainMs.map((m) => m.toFixed(0)).join(', ')})`);
    console.log(`  overhead:    ${overheadMs.toFixed(0)} ms (${overheadPercent.toFixed(1)} %), the median of the paired differences (step - plain run next to it: ${pairedMs.map((m) => m.toFixed(0)).join(', ')}); median(step) - median(plain): ${mediansMs.toFixed(0)} ms (${((mediansMs / plain) * 100).toFixed(1)} %)`);
    console.log(`    the step around its sandboxed run (per run): ${median(aroundMs).toFixed(0)} ms  (runs: ${aroundMs.map((m) => m.toFixed(0)).join(', ')})`);
    console.log(`    the same, fetching the branch itself (no commit kept by validate): ${median(fetchingAroundMs).toFixed(0)} ms  (runs: ${fetchingAroundMs.map((m) => m.toFixed(0)).join(', ')})`);
    console.log(`    the sandbox's own start and end (\`true\` with the build's limits and network): ${median(startMs).toFixed(0)} ms  (runs: ${startMs.map((m) => m.toFixed(0)).join(', ')})`);
    return {
      percent: round(overheadPercent), ms: Math.round(overheadMs), stepMs: Math.round(stepMedian), plainMs: Math.round(plain),
      aroundMs: Math.round(median(aroundMs)), fetchingAroundMs: Math.round(median(fetchingAroundMs)), sandboxStartMs: Math.round(median(startMs)),
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
