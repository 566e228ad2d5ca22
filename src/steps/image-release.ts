// What the buildImage step hands on besides the images themselves: each image's reference in
// Slipway's registry (details.images), and the Kubernetes manifests that would run them on each
// of the pipeline's target environments, with that environment's node counts.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ARTIFACT_TYPES } from '../artifacts/artifact-types.ts';
import { kubernetesManifests } from '../artifacts/manifests.ts';
import { unpackImage } from '../artifacts/oci.ts';
import { pushImage, type PushRegistry } from '../artifacts/push.ts';
import { imageReference, registryHost, repositoryName, type ImageEntry } from '../artifacts/registry.ts';
import { DISPATCHER_FILE, parseDispatcherPackage, type DispatcherPackage } from '../domain/contract.ts';
import { ENVIRONMENT_TYPES, type Environment } from '../domain/model.ts';
import { readWorkspaceFile } from '../runner/workspace-path.ts';
import type { ExecutionArtifact, StepContext } from './handler.ts';

export interface BuildImageDeps {
  /** The pipeline's target environments, by id: their node counts go into the manifests. */
  environment?(id: string): Promise<Environment | undefined>;
  /** Slipway's public URL (SLIPWAY_PUBLIC_URL, or where its API server listens): the registry's host. */
  publicUrl?(): string | undefined;
  /** A registry to push the images to (SLIPWAY_REGISTRY); their references then name it. */
  pushTo?(): PushRegistry | undefined;
}

export interface ManifestRecord {
  environment: string;
  name: string;
  digest: string;
}

/**
 * The images with their references: pushed to the configured registry when there is one, else
 * in Slipway's own (none while Slipway does not know its address).
 */
export async function imageEntries(
  ctx: StepContext, deps: BuildImageDeps, images: { name: string; digest: string }[], tag: string,
): Promise<ImageEntry[]> {
  const pushTo = deps.pushTo?.();
  const url = deps.publicUrl?.();
  const host = url ? registryHost(url) : undefined;
  const entries: ImageEntry[] = [];
  for (const image of images) {
    let reference = host ? imageReference(host, ctx.program.id, image.name, image.digest) : undefined;
    if (pushTo) {
      reference = await pushImage(ctx.artifacts, pushTo, { repository: repositoryName(ctx.program.id, image.name), digest: image.digest, tag }, ctx.signal);
      ctx.log.line(`pushed ${image.name} to ${reference}`);
    }
    entries.push({ ...image, ...(reference ? { reference } : {}) });
  }
  return entries;
}

/** dispatcher.yaml of the dispatcher package artifact (read inside the unpacked image only). */
async function dispatcherPackageOf(ctx: StepContext, artifact: ExecutionArtifact | undefined): Promise<DispatcherPackage> {
  if (!artifact) return parseDispatcherPackage({});
  const dir = join(ctx.workDir, 'k8s-dispatcher-package');
  try {
    await unpackImage(ctx.artifacts, artifact.digest, dir);
    const text = await readWorkspaceFile(dir, DISPATCHER_FILE) ?? '';
    return parseDispatcherPackage(text ? parseYaml(text) : {});
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Writes and records `kubernetes-<type>.yaml` per target environment; returns what it recorded. */
export async function recordManifests(ctx: StepContext, deps: BuildImageDeps, input: {
  images: ImageEntry[]; version: string; healthPath: string; appPort: number; dispatcherPackage?: ExecutionArtifact;
}): Promise<ManifestRecord[]> {
  const app = input.images.find((i) => i.name === 'app')?.reference;
  const dispatcher = input.images.find((i) => i.name === 'dispatcher')?.reference;
  if (!app) {
    ctx.log.line('no Kubernetes manifests: the registry address is not known (set SLIPWAY_PUBLIC_URL or SLIPWAY_REGISTRY)');
    return [];
  }
  const lookup = deps.environment;
  if (!lookup) {
    ctx.log.line('no Kubernetes manifests: the target environments are not known here');
    return [];
  }
  const pkg = dispatcher ? await dispatcherPackageOf(ctx, input.dispatcherPackage) : undefined;
  const records: ManifestRecord[] = [];
  for (const type of ENVIRONMENT_TYPES) {
    const id = ctx.pipeline.environments[type];
    if (!id) continue;
    const env = await lookup(id);
    if (!env) {
      ctx.log.line(`no Kubernetes manifests for ${type}: environment ${id} not found`);
      continue;
    }
    const yaml = kubernetesManifests({
      program: { id: ctx.program.id, name: ctx.program.name },
      environment: { id: env.id, name: env.name, type: env.type, publishCount: env.settings.publishCount },
      version: input.version, appImage: app, ...(dispatcher ? { dispatcherImage: dispatcher } : {}),
      ...(pkg ? { dispatcherPackage: pkg } : {}), appPort: input.appPort, healthPath: input.healthPath,
    });
    const blob = await ctx.artifacts.putBytes(yaml);
    const name = `kubernetes-${type}.yaml`;
    await ctx.recordArtifact({ ...blob, type: ARTIFACT_TYPES.K8S_MANIFESTS, name });
    ctx.log.line(`K8S_MANIFESTS ${name} ${blob.digest} (${env.name}: author, ${env.settings.publishCount} publish/dispatcher pairs)`);
    records.push({ environment: type, name, digest: blob.digest });
  }
  return records;
}
