// Runs a test bundle (functional or UI) the same way: unpack the OCI image into the step's
// work directory, run the contract's command in the sandbox with the target variables, keep
// the JUnit reports as artifacts and judge the run only by them.
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { StepContext, ExecutionArtifact } from '../handler.ts';
import { runSandboxed } from '../../runner/sandbox.ts';
import { RUN_LIMITS } from '../run-limits.ts';
import { parseJUnitFiles, type JUnitSummary } from '../../runner/reports/junit.ts';
import { unpackImage } from '../../artifacts/oci.ts';
import { judgeJUnit, type Verdict } from './junit-verdict.ts';
import type { ArtifactType } from '../../artifacts/artifact-types.ts';

export interface BundleDirs {
  bundle: string;
  reports: string;
  home: string;
}

export async function unpackBundle(ctx: StepContext, artifact: ExecutionArtifact): Promise<BundleDirs> {
  const dirs = { bundle: join(ctx.workDir, 'bundle'), reports: join(ctx.workDir, 'reports'), home: join(ctx.workDir, 'home') };
  for (const dir of Object.values(dirs)) await mkdir(dir, { recursive: true });
  await unpackImage(ctx.artifacts, artifact.digest, dirs.bundle);
  return dirs;
}

/** Every file under `dir` (reports may be written in sub-directories). */
export async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name)).sort();
}

export interface BundleRunRequest {
  kind: string; // "functional tests" / "UI tests", used in messages
  dirs: BundleDirs;
  command: string;
  timeoutMinutes: number;
  env: Record<string, string>;
  /** What really runs in the sandbox, when the command needs company (UI tests: chromedriver). */
  sandboxCommand?: string;
  /** Directories the sandboxed command reads besides the bundle (Slipway's own launcher script). */
  readOnlyPaths?: readonly string[];
  /** Artifact type of the stored JUnit files. */
  resultType: ArtifactType;
  /**
   * Host 127.0.0.1 ports the tests may reach (the environment under test: its load balancer
   * and author); nothing else of the host and no internet.
   */
  hostPorts?: number[];
}

export interface BundleRunOutcome {
  verdict: Verdict;
  summary?: JUnitSummary;
  reportFiles: string[];
  exitCode: number | null;
  cancelled: boolean;
}

export async function runBundle(ctx: StepContext, req: BundleRunRequest): Promise<BundleRunOutcome> {
  ctx.log.line(`$ ${req.command}`);
  const result = await runSandboxed({
    command: req.sandboxCommand ?? req.command,
    workspace: req.dirs.bundle,
    writablePaths: [req.dirs.reports, req.dirs.home],
    readOnlyPaths: [...(req.readOnlyPaths ?? [])],
    hidePaths: [ctx.dataDir],
    limits: RUN_LIMITS,
    network: { outbound: false, hostPorts: req.hostPorts ?? [] },
    env: { HOME: req.dirs.home, TMPDIR: req.dirs.home, CI: 'true', ...req.env, REPORTS_PATH: req.dirs.reports },
    timeoutMs: req.timeoutMinutes * 60_000,
    signal: ctx.signal,
    onOutput: (chunk) => ctx.log.write(chunk),
    log: (line) => ctx.log.line(line),
  });
  ctx.log.line(`${req.kind} exited with ${result.exitCode ?? result.signal} after ${(result.durationMs / 1000).toFixed(1)} s${result.timedOut ? ' (timeout)' : ''}${result.diskQuotaExceeded ? ' (disk quota exceeded)' : ''}${result.outOfMemory ? ' (out of memory)' : ''}`);
  const reportFiles = (await filesUnder(req.dirs.reports)).filter((f) => f.endsWith('.xml'));
  for (const file of reportFiles) {
    const blob = await ctx.artifacts.putFile(file);
    await ctx.recordArtifact({ ...blob, type: req.resultType, name: file.slice(req.dirs.reports.length + 1) });
  }
  let summary: JUnitSummary | undefined;
  let reportError: string | undefined;
  if (reportFiles.length > 0) {
    try {
      summary = await parseJUnitFiles(reportFiles);
    } catch (err) {
      reportError = (err as Error).message;
    }
  }
  const facts = { exitCode: result.exitCode, timedOut: result.timedOut, timeoutMinutes: req.timeoutMinutes, reportFiles: reportFiles.length, ...(reportError ? { reportError } : {}) };
  return { verdict: judgeJUnit(req.kind, facts, summary), ...(summary ? { summary } : {}), reportFiles, exitCode: result.exitCode, cancelled: result.cancelled };
}
