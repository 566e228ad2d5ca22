// The images a build becomes: the app image (a base plus the build output at /app, started with
// the contract's app.start) and the dispatcher image (the Varnish base plus the dispatcher
// package and the VCL generated from it, at /dispatcher). Each is the base's layers plus one
// layer of its own; the local driver unpacks only that own layer (unpackImage skips base layers).
import type { RepositoryContract } from '../domain/contract.ts';
import { generateVcl } from '../domain/vcl.ts';
import { HEALTH_LABEL } from './artifact-types.ts';
import type { BaseImage } from './base-image.ts';
import { APP_USER } from './debian-rootfs.ts';
import { buildImage, type ImageRuntimeConfig } from './oci.ts';
import type { ArtifactStore } from './store.ts';

/** The port every image listens on (given in $PORT to the app). */
export const APP_PORT = 8080;
/** Where the build output lands in the app image (its working directory). */
export const APP_DIR = '/app';
/** Where the dispatcher package and its VCL land in the dispatcher image. */
export const DISPATCHER_DIR = '/dispatcher';
export const DISPATCHER_VCL = 'dispatcher.vcl';
/**
 * The host name the dispatcher image's VCL sends requests to: whatever runs the image makes it
 * resolve to the dispatcher's publish node (podman --add-host, a Kubernetes Service or alias).
 */
export const PUBLISH_HOST = 'publish';

export interface ImageLabels {
  program: string;
  commitId?: string;
  /** The execution's artifacts version. */
  version?: string;
  /** The repository URL, without credentials. */
  source?: string;
}

const NON_ROOT = `${APP_USER.uid}:${APP_USER.gid}`;

function commonLabels(labels: ImageLabels): Record<string, string> {
  return {
    'io.slipway.program': labels.program,
    ...(labels.commitId ? { 'org.opencontainers.image.revision': labels.commitId } : {}),
    ...(labels.source ? { 'org.opencontainers.image.source': labels.source } : {}),
    ...(labels.version ? { 'org.opencontainers.image.version': labels.version } : {}),
  };
}

/**
 * How the app image starts: through /bin/sh like any start command, except on the bare `none`
 * base, which has no shell (the output brings its own binary): there the words run as they are.
 */
function startCommand(contract: RepositoryContract): string[] {
  const bare = contract.image.base === 'none' && contract.image.packages.length === 0;
  return bare ? contract.app.start.split(/\s+/).filter(Boolean) : ['/bin/sh', '-c', contract.app.start];
}

/** The app image's runtime configuration (pure). */
export function appImageConfig(contract: RepositoryContract, labels: ImageLabels): ImageRuntimeConfig {
  return {
    cmd: startCommand(contract),
    // HOST: in a network namespace of its own an app must listen on every address to be
    // reachable through a published port (the local driver publishes only on the host's loopback).
    env: [`PORT=${APP_PORT}`, 'HOST=0.0.0.0', 'NODE_ENV=production'],
    workingDir: APP_DIR,
    user: NON_ROOT,
    exposedPorts: [APP_PORT],
    labels: { ...commonLabels(labels), [HEALTH_LABEL]: contract.app.health },
  };
}

/**
 * varnishd in the foreground as the non-root user: no jail (-j none; there is no root to drop),
 * its working directory in /tmp, the generated VCL, a small memory cache.
 */
export function dispatcherImageConfig(labels: ImageLabels): ImageRuntimeConfig {
  return {
    entrypoint: ['varnishd', '-F'],
    cmd: ['-j', 'none', '-a', `:${APP_PORT}`, '-n', '/tmp/varnish', '-f', `${DISPATCHER_DIR}/${DISPATCHER_VCL}`, '-s', 'malloc,64m'],
    workingDir: DISPATCHER_DIR,
    user: NON_ROOT,
    exposedPorts: [APP_PORT],
    labels: commonLabels(labels),
  };
}

/** The VCL baked into the dispatcher image: one publish backend, PUBLISH_HOST:APP_PORT. */
export function dispatcherImageVcl(pkg: Parameters<typeof generateVcl>[0]['pkg'], healthPath: string): string {
  return generateVcl({ dispatcherName: 'dispatcher', backends: [{ name: 'publish_node', host: PUBLISH_HOST, port: APP_PORT }], healthPath, pkg });
}

/** The app image of a build output directory, over the base's layers (none: the output alone). */
export function buildAppImage(store: ArtifactStore, input: { dir: string; contract: RepositoryContract; labels: ImageLabels; base?: BaseImage }): Promise<{ digest: string; size: number }> {
  return buildImage(store, {
    dir: input.dir, at: APP_DIR, baseLayers: input.base?.layers ?? [], config: appImageConfig(input.contract, input.labels),
  });
}

/** The dispatcher image of a directory holding the package and its VCL, over the Varnish base. */
export function buildDispatcherImage(store: ArtifactStore, input: { dir: string; labels: ImageLabels; base?: BaseImage }): Promise<{ digest: string; size: number }> {
  return buildImage(store, {
    dir: input.dir, at: DISPATCHER_DIR, baseLayers: input.base?.layers ?? [], config: dispatcherImageConfig(input.labels),
  });
}
