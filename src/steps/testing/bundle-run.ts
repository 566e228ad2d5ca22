// Runs a test bundle (functional or UI) the same way: unpack the OCI image into the step's
// work directory, run the contract's command with the target variables in a test container or,
// where this machine has none, in the sandbox (isolation.ts), keep the JUnit reports as
// artifacts and judge the run only by them.
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { StepContext, ExecutionArtifact } from '../handler.ts';
import { runSandboxed, type SandboxResult } from '../../runner/sandbox.ts';
import { nodeScriptCommand, standaloneScriptPaths } from '../../runner/node-script.ts';
import { writeContainersConf } from '../../runner/podman.ts';
import { RUN_LIMITS } from '../run-limits.ts';
import { parseJUnitFiles, type JUnitSummary } from '../../runner/reports/junit.ts';
import { unpackImage } from '../../artifacts/oci.ts';
import { judgeJUnit, type Verdict } from './junit-verdict.ts';
import { chooseIsolation } from './isolation.ts';
import { runBundleInContainer } from './bundle-container.ts';
import type { BundleDirs, BundleRunRequest } from './bundle-request.ts';

export type { BundleDirs, BundleRunRequest, RunPlaces } from './bundle-request.ts';

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

export interface BundleRunOutcome {
  verdict: Verdict;
  summary?: JUnitSummary;
  reportFiles: string[];
  exitCode: number | null;
  cancelled: boolean;
}

function runInSandbox(ctx: StepContext, req: BundleRunRequest): Promise<SandboxResult> {
  const scripts: string[] = [];
  const command = req.wrap
    ? req.wrap({ home: req.dirs.home, nodeScript: (script, input) => { scripts.push(...standaloneScriptPaths(script)); return nodeScriptCommand(script, input); } })
    : req.command;
  return runSandboxed({
    command,
    workspace: req.dirs.bundle,
    writablePaths: [req.dirs.reports, req.dirs.home],
    readOnlyPaths: scripts,
    hidePaths: [ctx.dataDir],
    limits: RUN_LIMITS,
    network: { outbound: false, hostPorts: req.hostPorts ?? [] },
    env: { HOME: req.dirs.home, TMPDIR: req.dirs.home, CI: 'true', ...req.env, REPORTS_PATH: req.dirs.reports },
    timeoutMs: req.timeoutMinutes * 60_000,
    signal: ctx.signal,
    onOutput: (chunk) => ctx.log.write(chunk),
    log: (line) => ctx.log.line(line),
  });
}

/** The run in a container where possible; in the sandbox where not (or when the image fails, unless forced). */
async function runIsolated(ctx: StepContext, req: BundleRunRequest): Promise<SandboxResult> {
  const containersConf = await writeContainersConf(join(ctx.workDir, 'podman'));
  const choice = await chooseIsolation(containersConf);
  if (choice.isolation === 'sandbox') {
    ctx.log.line(`${req.kind} run in the sandbox (${choice.reason})`);
    return runInSandbox(ctx, req);
  }
  ctx.log.line(`${req.kind} run in a container (${choice.reason})`);
  try {
    return await runBundleInContainer(ctx, req, containersConf);
  } catch (err) {
    if (choice.forced || ctx.signal.aborted) throw err;
    ctx.log.line(`the test container could not be made (${(err as Error).message}); ${req.kind} run in the sandbox instead`);
    return runInSandbox(ctx, req);
  }
}

export async function runBundle(ctx: StepContext, req: BundleRunRequest): Promise<BundleRunOutcome> {
  ctx.log.line(`$ ${req.command}`);
  const result = await runIsolated(ctx, req);
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
