// Running podman on this kind of machine: runc (crun cannot run on a hybrid cgroup v1 host) and
// explicit ulimits (podman's defaults ask for more open files than the hard limit allows, and
// the container fails with "setrlimit RLIMIT_NOFILE: Operation not permitted"). Both go into a
// containers.conf that Slipway writes and passes in CONTAINERS_CONF, so nothing of the machine's
// own podman configuration is changed. Shared by whatever runs containers (tests, drivers).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ArtifactStore } from '../artifacts/store.ts';
import { exportOciLayout } from '../artifacts/oci-layout.ts';

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

/** Runs `podman args…` to completion (never throws for a non-zero exit: look at `code`). */
export function podman(args: readonly string[], opts: { containersConf: string; timeoutMs?: number; signal?: AbortSignal }): Promise<PodmanResult> {
  return new Promise((resolve) => {
    execFile('podman', [...args], {
      env: podmanEnv(opts.containersConf),
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

/**
 * Loads an image of the store into podman's local storage as `name` (e.g. localhost/app:tag),
 * through an OCI layout directory; returns the image id podman gives it.
 */
export async function loadIntoPodman(store: ArtifactStore, manifestDigest: string, name: string, containersConf: string): Promise<string> {
  // Lower case only: the path becomes the loaded image's name, and names are lower case.
  const dir = join(tmpdir(), `slipway-oci-export-${randomBytes(8).toString('hex')}`);
  await mkdir(dir, { mode: 0o700 });
  const opts = { containersConf, timeoutMs: 300_000 };
  try {
    await exportOciLayout(store, manifestDigest, dir, 'image');
    // podman names an image loaded from a directory after the directory's path: retag it.
    const loaded = await podman(['load', '--quiet', '--input', dir], opts);
    const loadedName = /Loaded image(?:\(s\))?: *(\S+)/.exec(loaded.stdout)?.[1];
    if (loaded.code !== 0 || !loadedName) throw new Error(`podman could not load ${manifestDigest}: ${loaded.stderr.trim() || loaded.stdout.trim()}`);
    const tagged = await podman(['tag', loadedName, name], opts);
    if (tagged.code !== 0) throw new Error(`podman tag ${loadedName} ${name}: ${tagged.stderr.trim()}`);
    await podman(['untag', loadedName, loadedName], opts);
    const id = await podman(['image', 'inspect', '--format', '{{.Id}}', name], opts);
    if (id.code !== 0) throw new Error(`podman image inspect ${name}: ${id.stderr.trim()}`);
    return id.stdout.trim();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
