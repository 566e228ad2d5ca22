// The container driver's podman: src/runner/podman.ts (runc, ulimits, Slipway's own
// containers.conf in CONTAINERS_CONF) with the config written into Slipway's data dir, failures
// thrown, the labels of environments, and the check of whether containers work here at all.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONTAINERS_CONF, podman, podmanEnv } from '../../runner/podman.ts';

/** Labels every container and network of an environment carries (adopt finds them by these). */
export const ENV_LABEL = 'io.slipway.environment';
export const NODE_LABEL = 'io.slipway.node';

export class PodmanError extends Error {
  override name = 'PodmanError';
}

export class Podman {
  readonly containersConf: string;

  /** Writes `<dir>/containers.conf` (dir is Slipway's, e.g. <dataDir>/podman). */
  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.containersConf = join(dir, 'containers.conf');
    writeFileSync(this.containersConf, CONTAINERS_CONF);
  }

  get env(): NodeJS.ProcessEnv { return podmanEnv(this.containersConf); }

  /** Runs podman; a non-zero exit is thrown. `env` is added to podman's (what `-e NAME` passes on). */
  async run(args: readonly string[], timeoutMs = 120_000, env: Record<string, string> = {}): Promise<{ stdout: string }> {
    const result = await podman(args, { containersConf: this.containersConf, timeoutMs, env });
    if (result.code !== 0) throw new PodmanError(`podman ${args.slice(0, 2).join(' ')}: ${result.stderr.trim() || `exit ${result.code}`}`);
    return { stdout: result.stdout };
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
 * trivial container starts and exits. The answer is undefined when it works, else why not.
 */
export function podmanProblem(dir: string): Promise<string | undefined> {
  works ??= (async () => {
    try {
      const podman = new Podman(dir);
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
