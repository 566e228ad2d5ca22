// The buildImage step: turns the build's outputs into the images that get deployed — the app
// image (the build output plus how to start it) and the dispatcher image — and the Kubernetes
// manifests that name them by digest. Reproducible: images depend only on the build output,
// the contract and the commit, so the same commit gives the same digests; the per-execution
// artifactsVersion goes into the manifests (per release), not into the images.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ARTIFACT_TYPES, HEALTH_LABEL } from '../artifacts/artifact-types.ts';
import { buildImage, unpackImage, type ImageRuntimeConfig } from '../artifacts/oci.ts';
import { readWorkspaceFile } from '../runner/workspace-path.ts';
import { parseContract, type RepositoryContract } from '../domain/contract.ts';
import { computeArtifactsVersion } from '../domain/artifacts-version.ts';
import type { ExecutionArtifact, StepContext, StepHandler, StepResult } from './handler.ts';
import { imageEntries, recordManifests, type BuildImageDeps } from './image-release.ts';

export const APP_PORT = 8080;

function latest(artifacts: ExecutionArtifact[], type: string): ExecutionArtifact | undefined {
  return artifacts.filter((a) => a.type === type).at(-1);
}

/** What the build step put into its details (commit, version). */
function buildDetails(ctx: StepContext): Record<string, unknown> {
  return ctx.execution.steps.find((s) => s.action === 'build')?.details ?? {};
}

async function appVersion(dir: string): Promise<string | undefined> {
  try {
    // The unpacked output may hold a package.json symlink to a host file: read it inside only.
    const pkg = JSON.parse(await readWorkspaceFile(dir, 'package.json') ?? '{}') as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : undefined;
  } catch {
    return undefined;
  }
}

/** The app image's runtime configuration (pure). */
export function appImageConfig(contract: RepositoryContract, labels: { program: string; commitId?: string; version?: string }): ImageRuntimeConfig {
  return {
    cmd: ['/bin/sh', '-c', contract.app.start],
    env: [`PORT=${APP_PORT}`, 'NODE_ENV=production'],
    workingDir: '/',
    labels: {
      'io.slipway.program': labels.program,
      [HEALTH_LABEL]: contract.app.health,
      ...(labels.commitId ? { 'org.opencontainers.image.revision': labels.commitId } : {}),
      ...(labels.version ? { 'org.opencontainers.image.version': labels.version } : {}),
    },
  };
}

/** Re-packs an image artifact's content with a runtime configuration. */
async function rebuild(ctx: StepContext, source: ExecutionArtifact, dir: string, config: (dir: string) => Promise<ImageRuntimeConfig>): Promise<{ digest: string; size: number }> {
  await rm(dir, { recursive: true, force: true });
  await unpackImage(ctx.artifacts, source.digest, dir);
  return buildImage(ctx.artifacts, { dir, config: await config(dir) });
}

async function run(ctx: StepContext, deps: BuildImageDeps): Promise<StepResult> {
  const artifacts = await ctx.executionArtifacts();
  const output = latest(artifacts, ARTIFACT_TYPES.BUILD_OUTPUT);
  if (!output) return { outcome: 'failed', reason: 'no BUILD_OUTPUT artifact: the build step recorded no output' };
  const contractArtifact = latest(artifacts, ARTIFACT_TYPES.CONTRACT);
  const contract = parseContract(contractArtifact ? JSON.parse((await ctx.artifacts.read(contractArtifact.digest)).toString('utf8')) : {});
  const build = buildDetails(ctx);
  const commitId = typeof build.commitId === 'string' ? build.commitId : undefined;
  const artifactsVersion = ctx.execution.artifactsVersion
    ?? (typeof build.artifactsVersion === 'string' ? build.artifactsVersion : computeArtifactsVersion(ctx.now(), ctx.execution.id));

  const app = await rebuild(ctx, output, join(ctx.workDir, 'app'), async (dir) =>
    appImageConfig(contract, { program: ctx.program.name, commitId, version: await appVersion(dir) }));
  await ctx.recordArtifact({ ...app, type: ARTIFACT_TYPES.APP_IMAGE, name: 'app' });
  ctx.log.line(`APP_IMAGE ${app.digest} (${contract.app.start})`);

  const dispatcherPackage = latest(artifacts, ARTIFACT_TYPES.DISPATCHER_PACKAGE);
  let dispatcher: { digest: string; size: number } | undefined;
  if (dispatcherPackage) {
    dispatcher = await rebuild(ctx, dispatcherPackage, join(ctx.workDir, 'dispatcher'), async () => ({
      labels: {
        'io.slipway.program': ctx.program.name,
        ...(commitId ? { 'org.opencontainers.image.revision': commitId } : {}),
      },
    }));
    await ctx.recordArtifact({ ...dispatcher, type: ARTIFACT_TYPES.DISPATCHER_IMAGE, name: 'dispatcher' });
    ctx.log.line(`DISPATCHER_IMAGE ${dispatcher.digest}`);
  } else {
    ctx.log.line('no dispatcher package: no dispatcher image');
  }

  const images = await imageEntries(ctx, deps, [
    { name: 'app', digest: app.digest }, ...(dispatcher ? [{ name: 'dispatcher', digest: dispatcher.digest }] : []),
  ], artifactsVersion);
  for (const image of images) if (image.reference) ctx.log.line(`pull: ${image.reference}`);
  const manifests = await recordManifests(ctx, deps, {
    images, version: artifactsVersion, healthPath: contract.app.health, appPort: APP_PORT, dispatcherPackage,
  });
  const details = { images, manifests };
  await ctx.updateDetails(details);
  await Promise.all([join(ctx.workDir, 'app'), join(ctx.workDir, 'dispatcher')].map((d) => rm(d, { recursive: true, force: true })));
  return { outcome: 'finished', details };
}

export function makeBuildImageHandler(deps: BuildImageDeps = {}): StepHandler {
  return {
    action: 'buildImage',
    idempotent: true,
    async run(ctx) {
      try {
        return await run(ctx, deps);
      } finally {
        await ctx.log.flush();
      }
    },
  };
}

/** Without environments nor a registry address: images only (tests of the images themselves). */
export const buildImageHandler: StepHandler = makeBuildImageHandler();
