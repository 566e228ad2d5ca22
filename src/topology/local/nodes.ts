// How each kind of node is started: app nodes from an unpacked image, Varnish dispatchers and
// the HAProxy load balancer, all detached (see proc.ts), each with a log file in the env dir.
// The app's start command is repository code: it runs through the sandbox as the unprivileged
// user, its image read-only, one private writable dir, its port published to the host's
// 127.0.0.1 (for Varnish), the internet but none of the host's loopback services, and neither
// the data dir nor anything else Slipway keeps.
import { mkdir } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import type { AppNodeState, AppRelease, DispatcherState, LoadBalancerState } from './state.ts';
import type { UnpackedImage } from './images.ts';
import { spawnDetached, type Spawned } from './proc.ts';
import { shellQuote } from '../../runner/node-script.ts';
import { DEFAULT_PATH } from '../../runner/sandbox-command.ts';
import { prepareSandbox } from '../../runner/sandbox.ts';

/** Per app node (cgroup v1 where available): enough for a site, not enough to starve the host. */
export const APP_NODE_LIMITS = { memoryBytes: 2 * 1024 ** 3, pids: 1024, cpuShares: 512 };

/** What starting an app node needs, whichever driver starts it (app-runner.ts). */
export interface AppNodeStart {
  environmentId: string;
  node: Pick<AppNodeState, 'name' | 'role'>;
  release: AppRelease;
  /** The host port the node answers on, 127.0.0.1 (its dispatcher's slot). */
  port: number;
  logDir: string;
  /** The node's private writable dir (HOME, TMPDIR), kept across its restarts. */
  runDir: string;
  /** The environment's dir on the host: names the environment's nodes among all on this host (ownerMarker). */
  envDir: string;
  /** What the app must not see (Slipway's data dir). */
  hidePaths: string[];
  log: (line: string) => void;
}

/** The local driver's start: the image unpacked on this machine. */
export interface AppStart extends AppNodeStart {
  image: UnpackedImage;
}

function imageEnv(list: readonly string[] | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of list ?? []) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

/** The app's environment: a minimal base, the image's ENV, the release variables, then ours. */
export function appEnvironment(input: AppStart): Record<string, string> {
  return {
    // The node running Slipway first (the app's `node`), then the system: nothing of root's own.
    PATH: [...new Set([dirname(process.execPath), ...DEFAULT_PATH.split(':')])].join(':'),
    HOME: input.runDir,
    TMPDIR: input.runDir,
    ...imageEnv(input.image.config.env),
    ...input.release.variables,
    PORT: String(input.port),
    APP_MODE: input.node.role,
    APP_VERSION: input.release.version,
    SLIPWAY_NODE: `${input.environmentId}/${input.node.name}/${input.port}`,
  };
}

export async function startAppNode(input: AppStart): Promise<Spawned> {
  const { config, rootfs } = input.image;
  const argv = config.cmd && config.cmd.length > 0 ? config.cmd : ['npm', 'start'];
  const wd = config.workingDir ?? '';
  const cwd = wd === '' ? rootfs : join(rootfs, isAbsolute(wd) ? wd.slice(1) : wd);
  const env = appEnvironment(input);
  await mkdir(input.runDir, { recursive: true });
  const sandbox = await prepareSandbox({
    command: `cd ${shellQuote(cwd)} && exec ${argv.map(shellQuote).join(' ')}`,
    workspace: input.runDir,
    readOnlyPaths: [rootfs],
    hidePaths: input.hidePaths,
    env,
    limits: APP_NODE_LIMITS,
    network: { outbound: true, publishPorts: [input.port] },
    // Not `longLived`: bubblewrap's parent is pasta (the recorded process), not Slipway, so
    // --die-with-parent ties the app to its network and port, never to Slipway's lifetime.
  }, input.log);
  // The port makes the marker unique per process: author and publish nodes may share argv and cwd.
  // It goes into the environment of the sandbox's outermost process, which is what is recorded,
  // with the owner's: the sandboxed command's environment is its own (it sees neither).
  const marker = `SLIPWAY_NODE=${env.SLIPWAY_NODE ?? ''}`;
  return spawnDetached(sandbox.argv, {
    cwd: '/', env: { ...sandbox.env, SLIPWAY_NODE: env.SLIPWAY_NODE ?? '', [OWNER]: input.envDir }, marker,
    logFile: join(input.logDir, `${input.node.name}.log`),
    sandbox: { cgroups: (sandbox.cgroup?.procsFiles ?? []).map((f) => dirname(f)), runDir: sandbox.runDir },
    release: sandbox.release,
  });
}

const OWNER = 'SLIPWAY_ENV_DIR';

/**
 * The environment entry of every node an environment runs (its outermost process): the sweep
 * finds a node started but never recorded by it (app-runner.ts).
 */
export const ownerMarker = (envDir: string): string => `${OWNER}=${envDir}`;

/**
 * `-j none`: Varnish's unix jail reads VCL files as the varnish user, who cannot enter a private
 * (0700) data dir; without root it is the only jail there is anyway.
 */
export function startVarnish(d: DispatcherState, logDir: string): Spawned {
  const argv = ['varnishd', '-j', 'none', '-F', '-n', d.workDir, '-a', `127.0.0.1:${d.port}`, '-f', d.vclFile, '-s', 'malloc,32m'];
  return spawnDetached(argv, { cwd: logDir, env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/bin' },
    logFile: join(logDir, `${d.name}.log`) });
}

export function startHaproxy(lb: LoadBalancerState, logDir: string): Spawned {
  return spawnDetached(['haproxy', '-f', lb.config, '-db'], { cwd: logDir,
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/bin' }, logFile: join(logDir, 'loadBalancer.log') });
}
