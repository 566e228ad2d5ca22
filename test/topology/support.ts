// Shared by the topology tests: a data dir with a real artifact store, fixture images built
// with buildImage, environments, and a load generator running in a second process.
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildImage } from '../../src/artifacts/oci.ts';
import { FsArtifactStore } from '../../src/artifacts/fs-store.ts';
import type { Environment, TopologyDriverName } from '../../src/domain/model.ts';
import { ContainersDriver } from '../../src/topology/containers/containers-driver.ts';
import { podmanProblem } from '../../src/topology/containers/podman.ts';
import type { DeployOptions, DeployProgress, Release } from '../../src/topology/driver.ts';
import { LocalDriver, type LocalDriverOptions } from '../../src/topology/local/local-driver.ts';
import type { LoadResult } from './load-client.ts';

const here = dirname(fileURLToPath(import.meta.url));

export const DISPATCHER_YAML = `cache:
  - match: "^/assets/"
    ttlSeconds: 300
deny: ["^/admin"]
methods: [GET, HEAD]
warm: ["/assets/app.css", "/assets/app.js"]
`;

export interface Fixture {
  dataDir: string;
  store: FsArtifactStore;
  appImage: string;
  dispatcherImage: string;
  cleanup(): void;
}

export type DriverName = TopologyDriverName;

/** Why podman cannot run containers on this machine, or undefined when it can. */
export const containersProblem = (): Promise<string | undefined> => podmanProblem(join(tmpdir(), 'slw-podman-probe'));

/**
 * A self-contained image for the container driver: this Node binary and the libraries it links,
 * then `files` in /app, run with `node <main>` (the smallest root filesystem that runs it).
 */
export async function nodeAppImage(store: FsArtifactStore, scratch: string, files: Record<string, string>, main: string): Promise<string> {
  const root = mkdtempSync(join(scratch, 'rootfs-'));
  const put = (from: string, to: string) => { mkdirSync(dirname(join(root, to)), { recursive: true }); copyFileSync(from, join(root, to)); };
  put(process.execPath, 'usr/local/bin/node');
  const libs = execFileSync('ldd', [process.execPath], { encoding: 'utf8' }).matchAll(/(\/\S+\.so[.\d]*)/g);
  for (const [lib] of libs) put(lib, lib.slice(1));
  for (const [name, from] of Object.entries(files)) put(from, `app/${name}`);
  const image = await buildImage(store, { dir: root, config: { cmd: ['/usr/local/bin/node', main], workingDir: '/app' } });
  rmSync(root, { recursive: true, force: true });
  return image.digest;
}

export async function makeFixture(driver: DriverName = 'local'): Promise<Fixture> {
  const dataDir = mkdtempSync(join(tmpdir(), 'slw-topo-'));
  const store = new FsArtifactStore(dataDir);
  const app = driver === 'containers'
    ? { digest: await nodeAppImage(store, dataDir, { 'server.mjs': join(here, 'fixture-app', 'server.mjs') }, 'server.mjs') }
    : await buildImage(store, {
      dir: join(here, 'fixture-app'),
      config: { cmd: ['sh', '-c', `${process.execPath} server.mjs`] },
    });
  const dispDir = join(dataDir, 'dispatcher-src');
  mkdirSync(dispDir);
  writeFileSync(join(dispDir, 'dispatcher.yaml'), DISPATCHER_YAML);
  const dispatcher = await buildImage(store, { dir: dispDir });
  return {
    dataDir, store, appImage: app.digest, dispatcherImage: dispatcher.digest,
    cleanup: () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

export function environment(id: string, publishCount: number, driver?: DriverName): Environment {
  const now = new Date();
  return {
    id, programId: '1', name: id, description: '', type: 'stage', status: 'ready', region: 'local',
    settings: { publishCount, ...(driver ? { driver } : {}) }, createdAt: now, updatedAt: now,
  };
}

/** The topology driver of that name over a fixture's data dir and store. */
export function makeDriver(name: DriverName, fx: Pick<Fixture, 'dataDir' | 'store'>, options: Partial<LocalDriverOptions> = {}): LocalDriver {
  const all = { dataDir: fx.dataDir, store: fx.store, ...options };
  return name === 'containers' ? new ContainersDriver(all) : new LocalDriver(all);
}

export function release(fx: Fixture, version: string, variables: Record<string, string> = {}): Release {
  return { version, appImage: fx.appImage, dispatcherImage: fx.dispatcherImage, variables };
}

export function deployOptions(progress: DeployProgress[] = [], extra: Partial<DeployOptions> = {}): DeployOptions {
  return {
    batchSize: 1, maxDrainMs: 5000, signal: new AbortController().signal,
    log: () => undefined, onProgress: (p) => progress.push(p), ...extra,
  };
}

export interface LoadRun {
  /** Requests so far (updated every 100 ms by the load process). */
  count(): number;
  phase(name: string): void;
  stop(): Promise<LoadResult>;
  child: ChildProcess;
}

/** Starts the load generator in a second process; bounded by maxRequests and maxMs. */
export function startLoad(opts: {
  port: number; keepAlive: boolean; concurrency?: number; maxRequests?: number; maxMs?: number;
  /** Paths requested in turn (default: the fixture app's). */
  paths?: string[];
}): LoadRun {
  const child = fork(join(here, 'load-client.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let count = 0;
  let resolveResult: (r: LoadResult) => void = () => undefined;
  const result = new Promise<LoadResult>((resolve, reject) => {
    resolveResult = resolve;
    child.on('exit', (code) => reject(new Error(`load client exited (${String(code)}) without a result`)));
  });
  child.on('message', (m: { type: string; count?: number; result?: LoadResult }) => {
    if (m.type === 'count' && m.count !== undefined) count = m.count;
    if (m.type === 'result' && m.result) resolveResult(m.result);
  });
  child.send({ type: 'start', port: opts.port, keepAlive: opts.keepAlive, concurrency: opts.concurrency ?? 16,
    maxRequests: opts.maxRequests ?? 200_000, maxMs: opts.maxMs ?? 60_000, ...(opts.paths ? { paths: opts.paths } : {}) });
  return {
    child,
    count: () => count,
    phase: (name) => child.send({ type: 'phase', name }),
    stop: async () => {
      if (child.connected) child.send({ type: 'stop' });
      return result;
    },
  };
}

export async function waitUntil(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface DeployedEnvironment {
  fx: Fixture;
  driver: LocalDriver;
  env: Environment;
  /** Destroys the environment and removes the data dir. */
  teardown(): Promise<void>;
}

/** A provisioned environment already running release v1 (the starting point of most roll tests). */
export async function deployedEnvironment(
  id: string, publishCount: number, driverOptions: Partial<LocalDriverOptions> = {}, driverName: DriverName = 'local',
): Promise<DeployedEnvironment> {
  const fx = await makeFixture(driverName);
  const env = environment(id, publishCount, driverName);
  const driver = makeDriver(driverName, fx, driverOptions);
  await driver.provision(env);
  const outcome = await driver.deploy(env, release(fx, 'v1'), deployOptions());
  if (outcome.outcome !== 'deployed') throw new Error(`the v1 deploy of ${id} ended ${JSON.stringify(outcome)}`);
  return {
    fx, driver, env,
    async teardown() {
      await driver.destroy(env).catch(() => undefined);
      driver.close();
      fx.cleanup();
    },
  };
}
