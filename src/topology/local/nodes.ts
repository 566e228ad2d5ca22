// How each kind of node is started: app nodes from an unpacked image, Varnish dispatchers and
// the HAProxy load balancer, all detached (see proc.ts), each with a log file in the env dir.
import { isAbsolute, join } from 'node:path';
import type { AppNodeState, AppRelease, DispatcherState, LoadBalancerState } from './state.ts';
import type { UnpackedImage } from './images.ts';
import { spawnDetached, type Spawned } from './proc.ts';

export interface AppStart {
  environmentId: string;
  node: Pick<AppNodeState, 'name' | 'role'>;
  image: UnpackedImage;
  release: AppRelease;
  port: number;
  logDir: string;
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
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    ...imageEnv(input.image.config.env),
    ...input.release.variables,
    PORT: String(input.port),
    APP_MODE: input.node.role,
    APP_VERSION: input.release.version,
    SLIPWAY_NODE: `${input.environmentId}/${input.node.name}/${input.port}`,
  };
}

export function startAppNode(input: AppStart): Spawned {
  const { config, rootfs } = input.image;
  const argv = config.cmd && config.cmd.length > 0 ? config.cmd : ['npm', 'start'];
  const wd = config.workingDir ?? '';
  const cwd = wd === '' ? rootfs : join(rootfs, isAbsolute(wd) ? wd.slice(1) : wd);
  const env = appEnvironment(input);
  // The port makes the marker unique per process: author and publish nodes may share argv and cwd.
  const marker = `SLIPWAY_NODE=${env.SLIPWAY_NODE ?? ''}`;
  return spawnDetached(argv, { cwd, env, marker, logFile: join(input.logDir, `${input.node.name}.log`) });
}

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
