// App nodes as containers: the release's image by digest, on the environment's own podman
// network (outbound only: no route to the host's loopback services, Slipway's API, HAProxy's or
// Varnish's admin), its port 8080 published on the host's 127.0.0.1 at the node's slot port (so
// Varnish, HAProxy and the health checks reach it as they reach a local node), read-only, no
// capabilities, the same memory, CPU and process limits as a local node. The container's
// output goes straight into the node's spool (passthrough), as a local node's does.
import { openSync, closeSync, readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { readImageConfig } from '../../artifacts/oci-format.ts';
import type { ArtifactStore } from '../../artifacts/store.ts';
import type { AppNodeStart, AppRunner } from '../local/app-runner.ts';
import { APP_NODE_LIMITS } from '../local/nodes.ts';
import { pidAlive } from '../../runner/pids.ts';
import { withStartTicks, type ProcessRecord } from '../local/proc.ts';
import { ContainerImages } from './images.ts';
import { ENV_LABEL, NODE_LABEL, type Podman } from './podman.ts';

/** The port the app listens on inside its container (PORT). */
export const CONTAINER_PORT = 8080;
/** Who the app runs as when its image names no user: nobody. */
const FALLBACK_USER = '65534:65534';

export const networkName = (environmentId: string): string => `slipway-${environmentId}`;

export function containerName(environmentId: string, node: string, port: number): string {
  return `slipway-${environmentId}-${node}-${port}`;
}

export class ContainerAppRunner implements AppRunner {
  readonly images: ContainerImages;
  private readonly networks = new Map<string, Promise<void>>();

  constructor(private readonly podman: Podman, private readonly store: ArtifactStore) {
    this.images = new ContainerImages(podman, store);
  }

  /** The environment's network, created once (a network left by an earlier Slipway is reused). */
  ensureNetwork(environmentId: string): Promise<void> {
    let pending = this.networks.get(environmentId);
    if (!pending) {
      const name = networkName(environmentId);
      pending = this.podman.run(['network', 'exists', name]).then(() => undefined, async () => {
        await this.podman.run(['network', 'create', '--label', `${ENV_LABEL}=${environmentId}`, name]);
      });
      pending.catch(() => this.networks.delete(environmentId));
      this.networks.set(environmentId, pending);
    }
    return pending;
  }

  async removeNetwork(environmentId: string): Promise<void> {
    this.networks.delete(environmentId);
    await this.podman.run(['network', 'rm', '-f', networkName(environmentId)]).catch(() => undefined);
  }

  async start(input: AppNodeStart): Promise<ProcessRecord> {
    const { environmentId, node, release, port } = input;
    const [image, config] = await Promise.all([
      this.images.ensure(release.appImage),
      readImageConfig(this.store, release.appImage),
      this.ensureNetwork(environmentId),
    ]);
    const name = containerName(environmentId, node.name, port);
    const env: Record<string, string> = {
      ...release.variables,
      PORT: String(CONTAINER_PORT),
      // Published ports reach the container's network address, not its loopback.
      HOST: '0.0.0.0',
      APP_MODE: node.role,
      APP_VERSION: release.version,
      SLIPWAY_NODE: `${environmentId}/${node.name}/${port}`,
    };
    const user = config.config.User;
    // podman writes the app's pid here once `podman start` returns: no `podman inspect` (a
    // third podman run, a few hundred ms on a busy machine) on the way to a healthy node.
    await mkdir(input.runDir, { recursive: true });
    const pidFile = join(input.runDir, `${port}.pid`);
    await rm(pidFile, { force: true });
    const create = (): Promise<unknown> => this.podman.run([
      // Never pulled: an image missing here is loaded from the store (below), not fetched.
      'create', '--pull', 'never', '--name', name, '--pidfile', pidFile,
      '--label', `${ENV_LABEL}=${environmentId}`, '--label', `${NODE_LABEL}=${node.name}`,
      '--network', networkName(environmentId), '-p', `127.0.0.1:${port}:${CONTAINER_PORT}`,
      '--memory', String(APP_NODE_LIMITS.memoryBytes), '--cpu-shares', String(APP_NODE_LIMITS.cpuShares),
      '--pids-limit', String(APP_NODE_LIMITS.pids),
      '--read-only', '--cap-drop', 'all', '--security-opt', 'no-new-privileges',
      ...(user ? [] : ['--user', FALLBACK_USER]),
      '--log-driver', 'passthrough',
      // `-e NAME` takes the value from podman's own environment: values (secrets) never show in argv.
      ...Object.keys(env).flatMap((k) => ['-e', k]),
      image,
    ], 60_000, env);
    // A dead node's container on this port (a restart) holds the name: removed, then created
    // again. Not removed ahead: on a deploy the slot is free, and a podman run costs ~100 ms.
    await create().catch(async (err: unknown) => {
      if (/image not known/.test(String(err))) {
        // Another Slipway process sharing the data dir pruned it after this one loaded it.
        this.images.forget(release.appImage);
        await this.images.ensure(release.appImage);
      } else if (/already in use/.test(String(err))) {
        await this.podman.remove(name, 1000);
      } else {
        throw err;
      }
      await create();
    });
    await this.startAttachedToLog(name, input.logDir, node.name);
    let written = 0;
    try { written = Number(readFileSync(pidFile, 'utf8').trim()); } catch { /* never written: not alive */ }
    // A container whose app exited at once: a record that is not alive (the health wait gives up).
    const pid = Number.isInteger(written) && written > 0 && pidAlive(written) ? written : 0;
    return {
      pid: pid > 0 ? pid : -1, argv: ['podman', 'start', name], cwd: '/', container: name,
      startedAt: new Date().toISOString(), ...(pid > 0 ? withStartTicks(pid) : {}),
    };
  }

  /**
   * `podman start` with the node's spool as its output: with the passthrough log driver the
   * container's stdout and stderr are that file, held by the app itself (no log reader to keep alive).
   */
  private startAttachedToLog(name: string, logDir: string, node: string): Promise<void> {
    const fd = openSync(`${logDir}/${node}.log`, 'a');
    try {
      const child = spawn('podman', ['start', name], { env: this.podman.env, stdio: ['ignore', fd, fd] });
      return new Promise((resolve, reject) => {
        child.on('error', reject);
        child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`podman start ${name} exited ${String(code)} (see ${node}.log)`))));
      });
    } finally {
      closeSync(fd);
    }
  }

  async stop(record: ProcessRecord | undefined, graceMs: number): Promise<void> {
    if (record?.container) await this.podman.remove(record.container, graceMs);
  }

  /** Found by the environment's label (this runner's podman storage is its data dir's own). */
  async sweep(environment: { id: string }, keep: readonly ProcessRecord[]): Promise<void> {
    const kept = new Set(keep.map((r) => r.container));
    for (const name of await this.podman.containers({ [ENV_LABEL]: environment.id })) {
      if (!kept.has(name)) await this.podman.remove(name, 5000);
    }
  }
}
