// The buildImage step: turns the build's outputs into the images that get deployed — the app
// image (a base built from Debian packages, slipway.yaml's image.base/packages, plus the build
// output) and the dispatcher image (Varnish plus the package and its VCL) — and the Kubernetes
// manifests that name them by digest. Reproducible: an image depends only on the build output,
// the contract, the commit and the artifacts version (a label), never on when it was built;
// its layers depend on the output and the base alone.
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { APP_PORT, buildAppImage, buildDispatcherImage, DISPATCHER_VCL, dispatcherImageVcl, type ImageLabels } from '../artifacts/app-image.ts';
import { ARTIFACT_TYPES } from '../artifacts/artifact-types.ts';
import { ensureBaseImage, type BaseImage } from '../artifacts/base-image.ts';
import { kubernetesManifests } from '../artifacts/manifests.ts';
import { unpackImage } from '../artifacts/oci.ts';
import { publicRepositoryUrl } from '../runner/repository-url.ts';
import { readWorkspaceFile } from '../runner/workspace-path.ts';
import { DISPATCHER_FILE, parseContract, parseDispatcherPackage, type RepositoryContract } from '../domain/contract.ts';
import { computeArtifactsVersion } from '../domain/artifacts-version.ts';
import type { ExecutionArtifact, StepContext, StepHandler, StepResult } from './handler.ts';

/** Replicas written into the manifests when the step has no target environment. */
export const DEFAULT_PUBLISH_REPLICAS = 2;
export { APP_PORT };

function latest(artifacts: ExecutionArtifact[], type: string): ExecutionArtifact | undefined {
  return artifacts.filter((a) => a.type === type).at(-1);
}

/** What the build step put into its details (commit, version). */
function buildDetails(ctx: StepContext): Record<string, unknown> {
  return ctx.execution.steps.find((s) => s.action === 'build')?.details ?? {};
}

async function unpacked(ctx: StepContext, source: ExecutionArtifact, dir: string): Promise<string> {
  await rm(dir, { recursive: true, force: true });
  await unpackImage(ctx.artifacts, source.digest, dir);
  return dir;
}

async function appImage(ctx: StepContext, output: ExecutionArtifact, contract: RepositoryContract, labels: ImageLabels): Promise<{ digest: string; size: number; base: BaseImage }> {
  const base = await ensureBaseImage(ctx.artifacts, contract.image, { signal: ctx.signal, log: (line) => ctx.log.line(line) });
  const dir = await unpacked(ctx, output, join(ctx.workDir, 'app'));
  const app = await buildAppImage(ctx.artifacts, { dir, contract, labels, base });
  ctx.log.line(`APP_IMAGE ${app.digest} (base ${contract.image.base}${contract.image.packages.length ? ` + ${contract.image.packages.join(' ')}` : ''}; ${contract.app.start})`);
  return { ...app, base };
}

/** The dispatcher package plus the VCL generated from its dispatcher.yaml, over the Varnish base. */
async function dispatcherImage(ctx: StepContext, pkgArtifact: ExecutionArtifact, contract: RepositoryContract, labels: ImageLabels): Promise<{ digest: string; size: number }> {
  const base = await ensureBaseImage(ctx.artifacts, 'dispatcher', { signal: ctx.signal, log: (line) => ctx.log.line(line) });
  const dir = await unpacked(ctx, pkgArtifact, join(ctx.workDir, 'dispatcher'));
  // The package is repository content: dispatcher.yaml may be a symlink; read it inside only.
  const text = await readWorkspaceFile(dir, DISPATCHER_FILE).catch(() => undefined) ?? '';
  const pkg = parseDispatcherPackage(text ? parseYaml(text) : {});
  await rm(join(dir, DISPATCHER_VCL), { force: true });
  await writeFile(join(dir, DISPATCHER_VCL), dispatcherImageVcl(pkg, contract.app.health));
  const image = await buildDispatcherImage(ctx.artifacts, { dir, labels, base });
  ctx.log.line(`DISPATCHER_IMAGE ${image.digest}`);
  return image;
}

async function run(ctx: StepContext): Promise<StepResult> {
  const artifacts = await ctx.executionArtifacts();
  const output = latest(artifacts, ARTIFACT_TYPES.BUILD_OUTPUT);
  if (!output) return { outcome: 'failed', reason: 'no BUILD_OUTPUT artifact: the build step recorded no output' };
  const contractArtifact = latest(artifacts, ARTIFACT_TYPES.CONTRACT);
  const contract = parseContract(contractArtifact ? JSON.parse((await ctx.artifacts.read(contractArtifact.digest)).toString('utf8')) : {});
  const build = buildDetails(ctx);
  const commitId = typeof build.commitId === 'string' ? build.commitId : undefined;
  const artifactsVersion = ctx.execution.artifactsVersion
    ?? (typeof build.artifactsVersion === 'string' ? build.artifactsVersion : computeArtifactsVersion(ctx.now(), ctx.execution.id));
  const labels: ImageLabels = { program: ctx.program.name, commitId, version: artifactsVersion, source: publicRepositoryUrl(ctx.repository.url) };

  const app = await appImage(ctx, output, contract, labels);
  await ctx.recordArtifact({ digest: app.digest, size: app.size, type: ARTIFACT_TYPES.APP_IMAGE, name: 'app' });

  const dispatcherPackage = latest(artifacts, ARTIFACT_TYPES.DISPATCHER_PACKAGE);
  let dispatcher: { digest: string; size: number } | undefined;
  if (dispatcherPackage) {
    dispatcher = await dispatcherImage(ctx, dispatcherPackage, contract, labels);
    await ctx.recordArtifact({ ...dispatcher, type: ARTIFACT_TYPES.DISPATCHER_IMAGE, name: 'dispatcher' });
  } else {
    ctx.log.line('no dispatcher package: no dispatcher image');
  }

  const manifests = kubernetesManifests({
    program: ctx.program.name,
    version: artifactsVersion,
    appImage: app.digest,
    dispatcherImage: dispatcher?.digest,
    publishReplicas: ctx.environment?.settings.publishCount ?? DEFAULT_PUBLISH_REPLICAS,
    appPort: APP_PORT,
    healthPath: contract.app.health,
  });
  const manifestsBlob = await ctx.artifacts.putBytes(manifests);
  await ctx.recordArtifact({ ...manifestsBlob, type: ARTIFACT_TYPES.K8S_MANIFESTS, name: 'kubernetes.yaml' });
  ctx.log.line(`K8S_MANIFESTS ${manifestsBlob.digest}`);

  const details = {
    images: { app: app.digest, ...(dispatcher ? { dispatcher: dispatcher.digest } : {}) },
    manifests: manifestsBlob.digest,
    /** The app image's base: its name, extra packages and key (the sha256 of what went into it). */
    base: { name: contract.image.base, packages: contract.image.packages, key: app.base.key },
  };
  await ctx.updateDetails(details);
  await Promise.all([join(ctx.workDir, 'app'), join(ctx.workDir, 'dispatcher')].map((d) => rm(d, { recursive: true, force: true })));
  return { outcome: 'finished', details };
}

export const buildImageHandler: StepHandler = {
  action: 'buildImage',
  idempotent: true,
  async run(ctx) {
    try {
      return await run(ctx);
    } finally {
      await ctx.log.flush();
    }
  },
};
