// The build step ("Build & Unit Testing"): take the work tree of the commit validate checked out
// (or else fetch the branch's tip; build-checkout.ts) and name its commit, read the repository contract, run
// the build command in the sandbox (started during the checkout) with a live, secret-masked
// log, read the unit-test results, and store what the later steps need
// (sources, contract, build output, dispatcher package, test bundles, reports) as
// content-addressed artifacts. Idempotent: it writes only into its own work dir and the
// content-addressed store (and takes validate's fetched commit, whole or not at all), so an
// attempt cut off by a crash is simply run again from scratch.
import { dirname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ARTIFACT_TYPES } from '../artifacts/artifact-types.ts';
import { readImageConfig } from '../artifacts/oci-format.ts';
import { CONTRACT_FILE, parseContract, type RepositoryContract } from '../domain/contract.ts';
import { SecretMasker } from '../runner/mask.ts';
import { parseJUnitFiles, type JUnitSummary } from '../runner/reports/junit.ts';
import { prepareBuildCache } from '../runner/build-cache.ts';
import { startSandbox, type SandboxResult, type StartedSandbox } from '../runner/sandbox.ts';
import { WorkspacePathError } from '../runner/workspace-path.ts';
import { computeArtifactsVersion } from '../domain/artifacts-version.ts';
import { buildEnvironment, failedTestsReason } from './build-env.ts';
import {
  findReports, packBuildOutputs, readSources, recordBuiltImage, recordReports, type PackedOutputs, type ReportFile, type Sources,
} from './build-outputs.ts';
import { checkoutCommit, freshWorkDirs } from './build-checkout.ts';
import { RUN_LIMITS } from './run-limits.ts';
import type { ExecutionArtifact, StepContext, StepHandler, StepResult } from './handler.ts';

/** Resource limits of one build (cgroup v1 where available, and the disk quota). */
export const BUILD_LIMITS = RUN_LIMITS;

export class StepCancelledError extends Error {
  constructor(what: string) {
    super(`${what} cancelled`);
    this.name = 'AbortError';
  }
}

async function readContract(sources: Sources): Promise<RepositoryContract> {
  const text = await sources.read(CONTRACT_FILE);
  // A missing file means "all defaults" (a plain Node project needs no contract).
  return parseContract(text === undefined ? {} : parseYaml(text));
}

/** The commit the reused build was made from: its app image's revision label. */
async function builtCommit(ctx: StepContext, artifacts: ExecutionArtifact[]): Promise<string | undefined> {
  const image = artifacts.find((a) => a.type === ARTIFACT_TYPES.APP_IMAGE);
  if (!image) return undefined;
  try {
    return (await readImageConfig(ctx.artifacts, image.digest)).config.Labels?.['org.opencontainers.image.revision'];
  } catch {
    return undefined; // an image we cannot read names no commit; the deploy step judges the image itself
  }
}

/** RE_EXECUTE: the engine hands us the source execution's artifacts; nothing is built. */
async function reuseArtifacts(ctx: StepContext): Promise<StepResult> {
  const source = ctx.execution.sourceExecutionId ?? '(unknown)';
  const artifacts = await ctx.executionArtifacts();
  if (artifacts.length === 0) return { outcome: 'failed', reason: `execution ${source} has no artifacts to re-use` };
  ctx.log.line(`Re-execution: the artifacts of execution ${source} are reused by reference; nothing is built.`);
  for (const a of artifacts) ctx.log.line(`  ${a.type} ${a.name} ${a.digest}`);
  const commitId = await builtCommit(ctx, artifacts);
  if (commitId) ctx.log.line(`built from commit ${commitId}`);
  const details = { reusedFromExecution: source, artifacts: artifacts.length, ...(commitId ? { commitId } : {}) };
  await ctx.updateDetails(details);
  return { outcome: 'finished', details };
}

function formatBytes(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}

/**
 * Checks out the commit validate fetched (fetched-commit.ts) or else the branch's tip into the
 * empty workspace: its commit, or why not.
 */
async function checkout(ctx: StepContext, workspace: string, artifactsVersion: string): Promise<{ commitId: string } | { failure: string }> {
  const { pipeline } = ctx;
  let commitId: string;
  try {
    commitId = await checkoutCommit(ctx, workspace);
  } catch (err) {
    if (ctx.signal.aborted) throw new StepCancelledError('build');
    return { failure: `checkout of branch ${pipeline.branch} failed: ${(err as Error).message}` };
  }
  ctx.log.line(`Checked out ${commitId}`);
  await ctx.updateDetails({ commitId, artifactsVersion });
  return { commitId };
}

async function runBuild(ctx: StepContext): Promise<StepResult> {
  const { pipeline } = ctx;
  const workspace = join(ctx.workDir, 'workspace');
  const homeDir = join(ctx.workDir, 'home');
  const tmpDir = join(ctx.workDir, 'tmp');
  const [, cacheDir] = await Promise.all([freshWorkDirs([workspace, homeDir, tmpDir]), prepareBuildCache(ctx.dataDir, pipeline.id)]);
  const artifactsVersion = ctx.execution.artifactsVersion ?? computeArtifactsVersion(ctx.now(), ctx.execution.id);
  const env = buildEnvironment({
    branch: pipeline.branch, pipelineId: pipeline.id, pipelineName: pipeline.name,
    programId: ctx.program.id, programName: ctx.program.name, artifactsVersion,
    homeDir, tmpDir, cacheDir, variables: ctx.variables,
  });
  // The engine's log writer masks secrets too; masking here as well is cheap (indexOf per chunk)
  // and keeps the runner safe to use with any sink.
  const masker = new SecretMasker(ctx.secrets, (chunk) => ctx.log.write(chunk));
  // The checkout first, then the sandbox, so that what is left of its start (bubblewrap, with
  // the rest of its chain started ahead: runner/sandbox-ahead.ts) overlaps the reading of the
  // sources, or a checkout that fetches; it runs nothing until run() sends the command.
  // checkout() puts validate's work tree in place before it returns: the sandbox binds the
  // workspace as it is when started.
  const checkedOut = checkout(ctx, workspace, artifactsVersion);
  checkedOut.catch(() => undefined); // awaited in buildIn, never unhandled meanwhile
  const sandbox = startSandbox({
    workspace,
    env,
    signal: ctx.signal,
    onOutput: (chunk) => masker.write(chunk),
    // Slipway's data dir (other executions' workspaces, the store, the database) and the sibling
    // work dirs stay invisible; the workspace, its private HOME/TMPDIR and the pipeline's build
    // cache are bound back in.
    hidePaths: [ctx.dataDir, dirname(ctx.workDir)],
    writablePaths: [homeDir, tmpDir],
    cachePaths: [cacheDir],
    limits: BUILD_LIMITS,
    // Package registries yes; the host's loopback services (API, admin ports, PostgreSQL) never.
    network: { outbound: true },
    log: (line) => ctx.log.line(line),
    fresh: true,
  });
  try {
    return await buildIn(ctx, sandbox, masker, checkedOut, { workspace, artifactsVersion });
  } finally {
    // Whatever ended the step (a failed checkout, a cancel, an error), nothing of the sandbox stays.
    await sandbox.stop();
    masker.end(); // what the sandbox said if it ended before its command (bwrap refusing to start)
  }
}

async function buildIn(
  ctx: StepContext, sandbox: StartedSandbox, masker: SecretMasker, checkingOut: Promise<{ commitId: string } | { failure: string }>,
  { workspace, artifactsVersion }: { workspace: string; artifactsVersion: string },
): Promise<StepResult> {
  const checkedOut = await checkingOut;
  if ('failure' in checkedOut) return { outcome: 'failed', reason: checkedOut.failure };
  const { commitId } = checkedOut;
  // The sandbox's processes first: their way to the command's wrapper (a chain of execs) then
  // overlaps the reading of the sources, which would otherwise hold the event loop before it.
  await sandbox.started;
  // Ownership changes nothing of what is read below (the images' owners are fixed), so meanwhile.
  sandbox.handOver().catch(() => undefined); // a failure surfaces in run()
  // The sources as checked out, read before any repository code runs; the contract among them.
  const sources = await readSources(ctx.artifacts, workspace);
  let contract: RepositoryContract;
  try {
    contract = await readContract(sources);
  } catch (err) {
    await sources.image.catch(() => undefined);
    return { outcome: 'failed', reason: `invalid ${CONTRACT_FILE}: ${(err as Error).message}` };
  }
  const { image } = sources;
  // Packed and stored while the build runs, recorded (only with a valid contract) once it ended:
  // whatever happens, both are done before the step is.
  const recorded = Promise.all([
    ctx.artifacts.putBytes(JSON.stringify(contract, null, 2))
      .then((blob) => ctx.recordArtifact({ ...blob, type: ARTIFACT_TYPES.CONTRACT, name: 'slipway.json' })),
    image,
  ]);
  recorded.catch(() => undefined); // awaited below, never unhandled meanwhile
  try {
    return await runBuildCommand(ctx, sandbox, masker, { workspace, commitId, artifactsVersion, contract }, recorded);
  } finally {
    await recorded.catch(() => undefined);
  }
}

async function runBuildCommand(
  ctx: StepContext, sandbox: StartedSandbox, masker: SecretMasker,
  { workspace, commitId, artifactsVersion, contract }: { workspace: string; commitId: string; artifactsVersion: string; contract: RepositoryContract },
  recorded: Promise<[void, { digest: string; size: number }]>,
): Promise<StepResult> {
  ctx.log.line(`$ ${contract.build.command}`);
  const result = await sandbox.run(contract.build.command, contract.build.timeoutMinutes * 60_000);
  // Nothing inside the sandbox runs any more: the rest of it (pasta, bubblewrap, cgroups, run
  // dir) ends while the outputs are read; runBuild's stop() waits for it.
  sandbox.stop().catch(() => undefined);
  masker.end();
  ctx.log.line(`Build command ended: exit code ${result.exitCode ?? '-'}${result.signal ? `, signal ${result.signal}` : ''} after ${(result.durationMs / 1000).toFixed(1)} s`);
  const [, sources] = await recorded;
  await recordBuiltImage(ctx, ARTIFACT_TYPES.SOURCE, 'source', sources);
  if (result.cancelled) throw new StepCancelledError('build');
  // Unless it already failed, the outputs are packed at once, meanwhile the reports are read:
  // recorded only if it passes, and done before the step is.
  const outputs = buildFailure(result, contract, undefined, undefined) ? undefined : packBuildOutputs(ctx, workspace, contract);
  outputs?.catch(() => undefined); // awaited below, never unhandled meanwhile
  try {
    return await judge(ctx, { workspace, commitId, artifactsVersion, contract, result }, outputs);
  } finally {
    await outputs?.catch(() => undefined);
  }
}

/** The verdict of a build that ran: its reports stored and read, its outputs recorded if it passed. */
async function judge(
  ctx: StepContext,
  { workspace, commitId, artifactsVersion, contract, result }: { workspace: string; commitId: string; artifactsVersion: string; contract: RepositoryContract; result: SandboxResult },
  outputs: Promise<PackedOutputs> | undefined,
): Promise<StepResult> {
  let reports: ReportFile[];
  try {
    reports = await findReports(workspace, contract);
  } catch (err) {
    if (err instanceof WorkspacePathError) return { outcome: 'failed', reason: `report file ${err.message}` };
    throw err;
  }
  // Stored whatever the verdict (the results of failed tests are worth reading), meanwhile the
  // verdict is made.
  const storing = recordReports(ctx, reports);
  storing.catch(() => undefined); // awaited below, never unhandled meanwhile
  const junit = reports.filter((f) => f.type === ARTIFACT_TYPES.TEST_RESULTS).map((f) => f.path);
  let tests: JUnitSummary | undefined;
  let reportError: string | undefined;
  if (junit.length > 0) {
    try {
      tests = await parseJUnitFiles(junit);
    } catch (err) {
      reportError = `unit test results unreadable: ${(err as Error).message}`;
    }
  }
  const details: Record<string, unknown> = {
    commitId, artifactsVersion, exitCode: result.exitCode, durationMs: result.durationMs,
    ...(tests ? { tests: { total: tests.tests, failures: tests.failures, errors: tests.errors, skipped: tests.skipped } } : {}),
  };
  await ctx.updateDetails(details);

  const failure = buildFailure(result, contract, tests, reportError);
  if (!failure && junit.length === 0) ctx.log.line(`note: no unit test results found (${contract.reports.junit.join(', ')})`);
  // Both run to their end before the step does: nothing is recorded after the step ended.
  const [stored, output] = await Promise.allSettled([storing, recordPassed(failure, outputs)]);
  if (stored.status === 'rejected') throw stored.reason;
  if (output.status === 'rejected') throw output.reason;
  const reason = failure ?? output.value;
  return reason ? { outcome: 'failed', reason, details } : { outcome: 'finished', details };
}

/** Records the packed outputs of a build that passed; why they are refused, if they are. */
async function recordPassed(failure: string | undefined, outputs: Promise<PackedOutputs> | undefined): Promise<string | undefined> {
  if (failure || !outputs) return undefined;
  const packed = await outputs;
  if ('failure' in packed) return packed.failure;
  await packed.record();
  return undefined;
}

/** Why a build that ran failed, first reason first; undefined for a successful one. */
function buildFailure(result: SandboxResult, contract: RepositoryContract, tests: JUnitSummary | undefined, reportError: string | undefined): string | undefined {
  if (result.outOfMemory && result.exitCode !== 0) return `build ran out of memory (limit ${formatBytes(BUILD_LIMITS.memoryBytes ?? 0)})`;
  if (result.diskQuotaExceeded) return `build exceeded its disk quota of ${formatBytes(BUILD_LIMITS.diskBytes ?? 0)}`;
  if (result.timedOut) return `build timed out after ${contract.build.timeoutMinutes} minutes`;
  if (tests && tests.failed.length > 0) return failedTestsReason(tests.failed);
  if (result.exitCode !== 0) return `build command failed with exit code ${result.exitCode ?? `- (signal ${result.signal ?? '?'})`}`;
  return reportError;
}

export const buildHandler: StepHandler = {
  action: 'build',
  idempotent: true,
  async run(ctx) {
    if (ctx.execution.trigger === 'RE_EXECUTE') return reuseArtifacts(ctx);
    try {
      return await runBuild(ctx);
    } finally {
      await ctx.log.flush();
    }
  },
};
