// The podman CLI as Slipway runs it: rootful, no daemon, runc (crun cannot run on this kind of
// hybrid cgroup host), and ulimits podman may set (its defaults ask for more open files than the
// hard limit here). Both come from a containers.conf Slipway writes into its data dir and
// passes in CONTAINERS_CONF, so nothing of the host's podman configuration is changed.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const CONTAINERS_CONF = `# Written by Slipway: do not edit.
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]

[engine]
runtime = "runc"
`;

/** Labels every container and network of an environment carries (adopt finds them by these). */
export const ENV_LABEL = 'io.slipway.environment';
export const NODE_LABEL = 'io.slipway.node';

export class PodmanError extends Error {
  override name = 'PodmanError';
}

export interface PodmanRun {
  stdout: string;
  stderr: string;
}

export class Podman {
  readonly env: NodeJS.ProcessEnv;

  /** Writes `<dir>/containers.conf` (dir is Slipway's, e.g. <dataDir>/podman). */
  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    const conf = join(dir, 'containers.conf');
    writeFileSync(conf, CONTAINERS_CONF);
    this.env = { ...process.env, CONTAINERS_CONF: conf };
  }

  /** `env` is added to podman's own environment (what `-e NAME` passes on). */
  run(args: readonly string[], timeoutMs = 120_000, env: Record<string, string> = {}): Promise<PodmanRun> {
    return new Promise((resolve, reject) => {
      execFile('podman', args, { env: { ...this.env, ...env }, timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
        if (err) reject(new PodmanError(`podman ${args.slice(0, 2).join(' ')}: ${stderr.trim() || err.message}`));
        else resolve({ stdout, stderr });
      });
    });
  }

  /** Names of the containers carrying every label given (running or not). */
  async containers(labels: Record<string, string>): Promise<string[]> {
    const filters = Object.entries(labels).flatMap(([k, v]) => ['--filter', `label=${k}=${v}`]);
    const { stdout } = await this.run(['ps', '-a', ...filters, '--format', '{{.Names}}']);
    return stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  }

  /** SIGTERM, SIGKILL after graceMs, then removed; a missing container is no error. */
  async remove(name: string, graceMs: number): Promise<void> {
    const seconds = String(Math.max(1, Math.ceil(graceMs / 1000)));
    await this.run(['rm', '-f', '-i', '-t', seconds, name], graceMs + 30_000);
  }
}

let works: Promise<string | undefined> | undefined;

/**
 * Can podman run a container here? Checked once per process: podman and runc present, and a
 * trivial container (an empty image holding nothing but `/`) starts and exits. The answer is
 * undefined when it works, else why not.
 */
export function podmanProblem(dir: string): Promise<string | undefined> {
  works ??= (async () => {
    try {
      const podman = new Podman(dir);
      await podman.run(['--version'], 10_000);
      await new Promise<void>((resolve, reject) => execFile('runc', ['--version'], (e) => (e ? reject(new Error('runc is missing')) : resolve())));
      // The host's / as an overlay (:O): no image is needed, and nothing is written to the host.
      await podman.run(['run', '--rm', '--network', 'none', '--rootfs', '/:O', '/bin/true'], 60_000);
      return undefined;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  })();
  return works;
}
