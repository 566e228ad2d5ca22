// What a finished build leaves behind, stored and recorded: directory outputs as reproducible
// OCI images (later steps unpack them), report files one blob each.
import { statSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ARTIFACT_TYPES, type ArtifactType } from '../artifacts/artifact-types.ts';
import { buildImage, buildSnapshotImage, snapshotDirectory } from '../artifacts/oci.ts';
import type { ArtifactStore } from '../artifacts/store.ts';
import { DISPATCHER_FILE, parseDispatcherPackage, type RepositoryContract } from '../domain/contract.ts';
import { listFilesFor, matchFiles } from '../runner/reports/glob.ts';
import { readWorkspaceFile, resolveInWorkspace, WorkspacePathError } from '../runner/workspace-path.ts';
import type { StepContext } from './handler.ts';

function isDirectory(path: string): boolean {
  try { return statSync(path).isDirectory(); } catch { return false; }
}

/** Leaves version-control data out of every image. */
export const withoutGit = (rel: string): boolean => rel === '.git' || rel.endsWith('/.git');
/** The sources image also leaves out installed dependencies. */
export const withoutGitAndDependencies = (rel: string): boolean =>
  withoutGit(rel) || rel === 'node_modules' || rel.endsWith('/node_modules');

/** Records an image already in the store as this step's artifact. */
export async function recordBuiltImage(
  ctx: StepContext, type: ArtifactType, name: string, image: { digest: string; size: number },
): Promise<string> {
  await ctx.recordArtifact({ ...image, type, name });
  ctx.log.line(`artifact ${type} ${name}: ${image.digest}`);
  return image.digest;
}

/** Sources up to this size are read into memory and packed while the build runs. */
const SOURCES_IN_MEMORY = 64 * 1024 ** 2;

/** The sources as read before any repository code ran (readSources). */
export interface Sources {
  /** Their image, being packed from what was read. */
  image: Promise<{ digest: string; size: number }>;
  /**
   * A file of the repository as it was read: from memory where it was read as a regular file;
   * otherwise (a symlink, sources too big for memory) resolved inside the workspace, so only
   * before repository code runs. Undefined when there is none.
   */
  read(rel: string): Promise<string | undefined>;
}

/**
 * The sources' image, of the workspace as it is now (checked out, before any repository code
 * runs). Resolves once nothing more is read from the workspace for the image: sources up to
 * SOURCES_IN_MEMORY are read into memory and packed meanwhile, bigger ones are packed before it
 * resolves (a build cannot change what is packed).
 */
export async function readSources(store: ArtifactStore, workspace: string): Promise<Sources> {
  const input = { dir: workspace, exclude: withoutGitAndDependencies };
  const snapshot = await snapshotDirectory(input, SOURCES_IN_MEMORY);
  const fromWorkspace = (rel: string): Promise<string | undefined> => readWorkspaceFile(workspace, rel);
  if (!snapshot) return { image: Promise.resolve(await buildImage(store, input)), read: fromWorkspace };
  const image = buildSnapshotImage(store, snapshot);
  image.catch(() => undefined); // awaited by the caller, never unhandled meanwhile
  const files = new Map(snapshot.entries.flatMap(({ header, body }) => (header.type === 'file' && body ? [[header.name, body] as const] : [])));
  return { image, read: async (rel) => files.get(rel)?.toString('utf8') ?? fromWorkspace(rel) };
}

export interface ReportFile { type: ArtifactType; rel: string; path: string }

/** The report files the contract names (JUnit, coverage, SARIF), resolved inside the workspace. */
export async function findReports(workspace: string, contract: RepositoryContract): Promise<ReportFile[]> {
  const groups: [ArtifactType, string[]][] = [
    [ARTIFACT_TYPES.TEST_RESULTS, contract.reports.junit],
    [ARTIFACT_TYPES.COVERAGE, contract.reports.coverage],
    [ARTIFACT_TYPES.SARIF, contract.reports.sarif],
  ];
  // One walk for all of them, of the directories they lie in.
  const files = await listFilesFor(workspace, groups.flatMap(([, patterns]) => patterns));
  const matched = groups.flatMap(([type, patterns]) => matchFiles(files, patterns).map((rel) => ({ type, rel })));
  return Promise.all(matched.map(async ({ type, rel }) => {
    const path = await resolveInWorkspace(workspace, rel);
    if (path === undefined) throw new WorkspacePathError(rel, 'vanished');
    return { type, rel, path };
  }));
}

/** Report files, each its own artifact named by its workspace path. */
export async function recordReports(ctx: StepContext, files: ReportFile[]): Promise<void> {
  await Promise.all(files.map(async ({ type, rel, path }) => {
    const blob = await ctx.artifacts.putFile(path);
    await ctx.recordArtifact({ ...blob, type, name: rel });
  }));
}

/** A build's outputs packed into the store, recorded once the build passed; or why they are refused. */
export type PackedOutputs = { failure: string } | { record(): Promise<void> };

/**
 * Packs the deployable outputs of a build (read once nothing of the build runs), to be recorded
 * if it passes: a failure when a configured output is missing or invalid (a build that
 * "succeeds" without its output must not pass). Packing only stores: the images of a build
 * that fails after all are unrecorded blobs, harmless.
 */
export async function packBuildOutputs(ctx: StepContext, workspace: string, contract: RepositoryContract): Promise<PackedOutputs> {
  try {
    return await packOutputs(ctx, workspace, contract);
  } catch (err) {
    if (err instanceof WorkspacePathError) return { failure: `refused: ${err.message}` };
    throw err;
  }
}

/** A directory the contract names, resolved inside the workspace; undefined when there is none. */
async function workspaceDirectory(workspace: string, repoPath: string): Promise<string | undefined> {
  const path = await resolveInWorkspace(workspace, repoPath);
  return path !== undefined && isDirectory(path) ? path : undefined;
}

/**
 * Checks every output the contract names, in order, handing each one found to `pack` at once:
 * why one is refused, or the notes about bundles not found.
 */
async function checkOutputs(
  workspace: string, contract: RepositoryContract, pack: (type: ArtifactType, name: string, dir: string) => void,
): Promise<{ failure: string } | { notes: string[] }> {
  const output = await workspaceDirectory(workspace, contract.app.output);
  if (!output) return { failure: `app.output "${contract.app.output}" does not exist after the build` };
  pack(ARTIFACT_TYPES.BUILD_OUTPUT, 'build-output', output);

  if (contract.dispatcher) {
    const file = `${contract.dispatcher.path}/${DISPATCHER_FILE}`;
    const dir = await workspaceDirectory(workspace, contract.dispatcher.path);
    const text = dir === undefined ? undefined : await readWorkspaceFile(workspace, file);
    if (dir === undefined || text === undefined) return { failure: `dispatcher package "${file}" does not exist` };
    try {
      parseDispatcherPackage(parseYaml(text), file);
    } catch (err) {
      return { failure: `invalid dispatcher package: ${(err as Error).message}` };
    }
    pack(ARTIFACT_TYPES.DISPATCHER_PACKAGE, 'dispatcher', dir);
  }

  const bundles: [ArtifactType, string, { path: string } | undefined][] = [
    [ARTIFACT_TYPES.FUNCTIONAL_TESTS, 'functional-tests', contract.tests.functional],
    [ARTIFACT_TYPES.UI_TESTS, 'ui-tests', contract.tests.ui],
  ];
  const notes: string[] = [];
  for (const [type, name, bundle] of bundles) {
    if (!bundle) continue;
    const dir = await workspaceDirectory(workspace, bundle.path);
    if (dir) pack(type, name, dir);
    else notes.push(`note: ${name} bundle "${bundle.path}" not found after the build; none recorded`);
  }
  return { notes };
}

async function packOutputs(ctx: StepContext, workspace: string, contract: RepositoryContract): Promise<PackedOutputs> {
  // Each output is packed as soon as it is checked, meanwhile the next one is: the step's end
  // waits for the last image, not for the checks before it too. A refused output leaves the
  // images packed so far as unrecorded blobs, stored before this returns all the same.
  const packing: Promise<readonly [ArtifactType, string, { digest: string; size: number }]>[] = [];
  const pack = (type: ArtifactType, name: string, dir: string): void => {
    const image = buildImage(ctx.artifacts, { dir, exclude: withoutGit }).then((built) => [type, name, built] as const);
    image.catch(() => undefined); // awaited below, never unhandled meanwhile
    packing.push(image);
  };
  let checked: Awaited<ReturnType<typeof checkOutputs>>;
  try {
    checked = await checkOutputs(workspace, contract, pack);
  } finally {
    await Promise.allSettled(packing);
  }
  if ('failure' in checked) return checked;
  const packed = await Promise.all(packing);
  const { notes } = checked;
  return {
    async record() {
      for (const note of notes) ctx.log.line(note);
      await Promise.all(packed.map(([type, name, image]) => recordBuiltImage(ctx, type, name, image)));
    },
  };
}
