// Running podman on this kind of machine: runc (crun cannot run on a hybrid cgroup v1 host) and
// explicit ulimits (podman's defaults ask for more open files than the hard limit allows, and
// the container fails with "setrlimit RLIMIT_NOFILE: Operation not permitted"). Both go into a
// containers.conf that Slipway writes and passes in CONTAINERS_CONF, so nothing of the machine's
// own podman configuration is changed. Shared by whatever runs containers (tests, drivers).
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const CONTAINERS_CONF = `# Written by Slipway (src/runner/podman.ts)
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]

[engine]
runtime = "runc"
`;

/** Writes containers.conf into dir (created if missing) and returns its path. */
export async function writeContainersConf(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'containers.conf');
  await writeFile(path, CONTAINERS_CONF);
  return path;
}

/** The environment podman runs with: this process's, with CONTAINERS_CONF set. */
export function podmanEnv(containersConf: string): NodeJS.ProcessEnv {
  return { ...process.env, CONTAINERS_CONF: containersConf };
}

export interface PodmanResult { code: number; stdout: string; stderr: string }

/**
 * Runs `podman args…` to completion (never throws for a non-zero exit: look at `code`). `env` is
 * added to podman's own environment: what `-e NAME` hands a container, never shown in argv.
 */
export function podman(args: readonly string[], opts: {
  containersConf: string; timeoutMs?: number; signal?: AbortSignal; env?: Record<string, string>;
}): Promise<PodmanResult> {
  return new Promise((resolve) => {
    execFile('podman', [...args], {
      env: { ...podmanEnv(opts.containersConf), ...opts.env },
      timeout: opts.timeoutMs ?? 120_000,
      maxBuffer: 16 << 20,
      ...(opts.signal ? { signal: opts.signal } : {}),
    }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr: err && code === -1 ? `${stderr}${err.message}` : stderr });
    });
  });
}

/** True when podman is installed and answers (`podman version`). */
export async function podmanWorks(containersConf: string): Promise<boolean> {
  return (await podman(['version', '--format', '{{.Client.Version}}'], { containersConf, timeoutMs: 30_000 })).code === 0;
}
