// The local driver's durable record of an environment: ports, directories, processes and the
// release each node runs. Written atomically (temp file + rename) after every change, so a
// Slipway killed at any moment finds the truth on restart.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ProcessRecord } from './proc.ts';

export interface AppRelease {
  version: string;
  appImage: string;
  variables: Record<string, string>;
  /** The release's health path (its image label); absent in older states: TopologyState.healthPath. */
  healthPath?: string;
}

export interface DispatcherRelease {
  version: string;
  dispatcherImage?: string;
}

export interface AppNodeState {
  name: string; // author, publish-1...
  role: 'author' | 'publish';
  port: number;
  process?: ProcessRecord;
  release?: AppRelease;
  /** A process started by a deploy that was not yet switched to (killed on recovery). */
  pending?: { port: number; process: ProcessRecord };
}

export interface DispatcherState {
  name: string; // dispatcher-1...
  server: string; // HAProxy server name: d1...
  port: number;
  workDir: string;
  process?: ProcessRecord;
  release?: DispatcherRelease;
  /** The publish port the dispatcher routes to (the active slot's port). */
  backendPort: number;
  /**
   * The pair's two fixed publish ports, declared by the active VCL as backends slot_a and
   * slot_b; deploys alternate between them without compiling. Absent in states written before
   * slots existed (their VCL has a single backend on backendPort): the first deploy that
   * changes the pair records them and compiles once.
   */
  slotPorts?: [number, number];
  vclSeq: number;
  /**
   * The publish health path the active VCL probes and answers DISPATCHER_HEALTH_PATH with.
   * Absent: a VCL from before that endpoint existed (the next deploy compiles a new one).
   */
  healthPath?: string;
  /** Name Varnish knows the active VCL by ("boot" after a restart) and its file. */
  activeVcl?: string;
  vclFile: string;
}

export interface LoadBalancerState {
  port: number;
  socket: string;
  config: string;
  process?: ProcessRecord;
  /** The path HAProxy checks on each dispatcher; absent in older states: TopologyState.healthPath. */
  checkPath?: string;
}

export interface TopologyState {
  version: 1;
  environmentId: string;
  dir: string;
  /** Health path of releases that do not name one (and of states from before releases did). */
  healthPath: string;
  author: AppNodeState;
  publish: AppNodeState[];
  dispatchers: DispatcherState[];
  loadBalancer: LoadBalancerState;
}

export const STATE_FILE = 'state.json';

export function statePath(envDir: string): string {
  return join(envDir, STATE_FILE);
}

export async function saveState(state: TopologyState): Promise<void> {
  const file = statePath(state.dir);
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  // Mode 600: release variables may hold secrets.
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, file);
}

export async function loadState(envDir: string): Promise<TopologyState | undefined> {
  try {
    return JSON.parse(await readFile(statePath(envDir), 'utf8')) as TopologyState;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** What the caller keeps in environment.settings.topology: everything but variable values. */
export function summarizeState(state: TopologyState, driver = 'local'): Record<string, unknown> {
  const app = (n: AppNodeState) => ({
    name: n.name, port: n.port, pid: n.process?.pid,
    release: n.release ? { version: n.release.version, appImage: n.release.appImage } : undefined,
  });
  return {
    driver,
    dir: state.dir,
    author: app(state.author),
    publish: state.publish.map(app),
    dispatchers: state.dispatchers.map((d) => ({
      name: d.name, port: d.port, pid: d.process?.pid, workDir: d.workDir, release: d.release,
      backendPort: d.backendPort, slotPorts: d.slotPorts,
    })),
    loadBalancer: { port: state.loadBalancer.port, socket: state.loadBalancer.socket, pid: state.loadBalancer.process?.pid },
  };
}
