// The local topology driver: every environment is author + publish×N app processes, a Varnish
// dispatcher per publish node and one HAProxy in front, all on 127.0.0.1 under
// <dataDir>/environments/<envId>/. Nodes run detached and outlive Slipway; adopt() takes
// them back. Until the first deploy, publish nodes run nothing: the load balancer has no
// healthy member and answers 503.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ArtifactStore } from '../../artifacts/store.ts';
import type { Environment } from '../../domain/model.ts';
import { parseDispatcherPackage } from '../../domain/contract.ts';
import type { DeployOptions, DeployOutcome, EntryPoints, NodeView, Release, TopologyDriver, TopologyView } from '../driver.ts';
import { haproxyConfig, lbStateOf } from './haproxy.ts';
import { freePort } from '../../runner/free-port.ts';
import { isHealthy } from './http.ts';
import type { SpoolLimits } from './log-spool.ts';
import { LocalEnvironmentLogs } from './node-logs.ts';
import { defaultUnpack, type UnpackImage } from './images.ts';
import { stopProcess } from './proc.ts';
import type { AppRunner } from './app-runner.ts';
import type { ImageCache } from './images.ts';
import { RollingDeploy } from './rolling-deploy.ts';
import { EnvRuntime } from './runtime.ts';
import { loadState, summarizeState, type AppNodeState, type DispatcherState, type TopologyState } from './state.ts';
import { Supervisor } from './supervisor.ts';
import { DISPATCHER_HEALTH_PATH, generateVcl } from './varnish.ts';

export interface LocalDriverOptions {
  dataDir: string;
  store: ArtifactStore;
  log?: (line: string) => void;
  /** Defaults to unpackImage from src/artifacts/oci.ts. */
  unpack?: UnpackImage;
  /**
   * Health path of releases whose app image names none (default /health); a release's own
   * path comes with its image (HEALTH_LABEL, the repository contract's app.health).
   */
  healthPath?: string;
  healthTimeoutMs?: number;
  /** Per warm path. */
  warmTimeoutMs?: number;
  stopGraceMs?: number;
  /** Restart nodes (app, Varnish, HAProxy) that die while this Slipway runs (default true). */
  supervise?: boolean;
  /** Environment logs: day-file bounds and how often spools are collected (0 = only on reads). */
  logs?: { limits?: SpoolLimits; collectEveryMs?: number };
}

/** Unix socket paths are limited to 108 bytes: long data dirs get a socket in the temp dir. */
function socketPathFor(envDir: string): string {
  const direct = join(envDir, 'haproxy.sock');
  if (direct.length < 100) return direct;
  return join(tmpdir(), `slipway-${createHash('sha256').update(envDir).digest('hex').slice(0, 16)}.sock`);
}

/** Every node listens on the loopback interface. */
const nodeUrl = (port: number): string => `http://127.0.0.1:${port}`;

export class LocalDriver implements TopologyDriver {
  protected readonly log: (line: string) => void;
  private readonly supervisor?: Supervisor;
  private readonly runtimes = new Map<string, EnvRuntime>();
  readonly logs: LocalEnvironmentLogs;

  constructor(private readonly options: LocalDriverOptions) {
    this.log = options.log ?? (() => undefined);
    if (options.supervise !== false) this.supervisor = new Supervisor(this.log);
    this.logs = new LocalEnvironmentLogs((env) => this.envDir(env), {
      ...options.logs, stopGraceMs: options.stopGraceMs ?? 10_000, log: this.log,
    });
  }

  envDir(env: Pick<Environment, 'id'>): string {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(env.id)) throw new Error(`environment id not usable as a directory: ${env.id}`);
    return join(this.options.dataDir, 'environments', env.id);
  }

  /** Which driver this is, as environments name it (settings.driver). */
  get name(): string { return 'local'; }

  /** How app nodes run: the local driver's default (the sandbox) unless a subclass says otherwise. */
  protected appRunner(): ((images: ImageCache) => AppRunner) | undefined { return undefined; }

  protected runtimeFor(state: TopologyState): EnvRuntime {
    const apps = this.appRunner();
    const rt = new EnvRuntime(state, {
      ...(apps ? { apps } : {}),
      store: this.options.store,
      unpack: this.options.unpack ?? defaultUnpack,
      log: this.log,
      healthTimeoutMs: this.options.healthTimeoutMs ?? 20_000,
      warmTimeoutMs: this.options.warmTimeoutMs ?? 10_000,
      stopGraceMs: this.options.stopGraceMs ?? 10_000,
      ...(this.supervisor ? { supervisor: this.supervisor } : {}),
    });
    this.runtimes.set(state.environmentId, rt);
    return rt;
  }

  /** The state file is the truth (another Slipway process may have changed it). */
  private async runtime(env: Environment): Promise<EnvRuntime> {
    const state = await loadState(this.envDir(env));
    if (!state) throw new Error(`environment ${env.id} is not provisioned`);
    return this.runtimeFor(state);
  }

  async provision(env: Environment): Promise<unknown> {
    const dir = this.envDir(env);
    const existing = await loadState(dir);
    if (existing) {
      const rt = this.runtimeFor(existing);
      await rt.reconcile();
      await this.logs.ensureReaders(rt.state);
      return summarizeState(rt.state, this.name);
    }
    const count = Math.max(1, Math.floor(env.settings.publishCount || 2));
    const healthPath = this.options.healthPath ?? '/health';
    await mkdir(join(dir, 'logs'), { recursive: true });
    const app = async (name: string, role: 'author' | 'publish'): Promise<AppNodeState> => ({ name, role, port: await freePort() });
    const publish: AppNodeState[] = [];
    const dispatchers: DispatcherState[] = [];
    for (let i = 1; i <= count; i++) {
      // Each pair gets two fixed publish ports (slots): deploys alternate between them, so the
      // dispatcher switches with set_health and compiles only when its package changes.
      const slotPorts: [number, number] = [await freePort(), await freePort()];
      publish.push({ name: `publish-${i}`, role: 'publish', port: slotPorts[0] });
      const name = `dispatcher-${i}`;
      const ddir = join(dir, 'dispatchers', name);
      await mkdir(ddir, { recursive: true });
      const vclFile = join(ddir, 'vcl-0.vcl');
      await writeFile(vclFile, generateVcl({ dispatcherName: name, slotPorts, healthPath, pkg: parseDispatcherPackage({}) }));
      dispatchers.push({ name, server: `d${i}`, port: await freePort(), workDir: join(ddir, 'varnish'),
        backendPort: slotPorts[0], slotPorts, vclSeq: 0, vclFile, healthPath });
    }
    const lbPort = await freePort();
    const socket = socketPathFor(dir);
    const config = join(dir, 'haproxy.cfg');
    // HAProxy checks each dispatcher's own endpoint, which its VCL maps to the health path of
    // the release it fronts: the app's path may change between releases (see varnish.ts).
    const checkPath = DISPATCHER_HEALTH_PATH;
    await writeFile(config, haproxyConfig({ port: lbPort, socket, healthPath: checkPath, servers: dispatchers.map((d) => ({ name: d.server, port: d.port })) }));
    const state: TopologyState = {
      version: 1, environmentId: env.id, dir, healthPath,
      author: await app('author', 'author'), publish, dispatchers,
      loadBalancer: { port: lbPort, socket, config, checkPath },
    };
    const rt = this.runtimeFor(state);
    await rt.save();
    for (let i = 0; i < count; i++) await rt.dispatchers.start(i);
    await rt.loadBalancer.start();
    await this.logs.ensureReaders(state);
    this.log(`environment ${env.id}: provisioned (lb on 127.0.0.1:${lbPort}, ${count} pairs)`);
    return summarizeState(state, this.name);
  }

  async destroy(env: Environment): Promise<void> {
    const dir = this.envDir(env);
    const state = await loadState(dir);
    this.supervisor?.unwatchPrefix(`${env.id}/`);
    this.runtimes.delete(env.id);
    if (state) {
      const grace = this.options.stopGraceMs ?? 10_000;
      const apps = [state.author, ...state.publish];
      const runner = this.runtimeFor(state).apps;
      this.runtimes.delete(env.id);
      await Promise.all([
        stopProcess(state.loadBalancer.process, grace),
        ...state.dispatchers.map((d) => stopProcess(d.process, grace)),
        ...apps.flatMap((n) => [runner.stop(n.process, grace), runner.stop(n.pending?.process, grace)]),
        this.logs.stopReaders(env),
      ]);
      // And a node started but never recorded (a deploy cut off at that moment).
      await runner.sweep?.({ id: env.id, dir }, []);
      await rm(state.loadBalancer.socket, { force: true });
    } else {
      await this.sweepUnrecorded(env);
    }
    await rm(dir, { recursive: true, force: true });
  }

  /**
   * Removes what an environment without a readable state file left running. The local driver
   * saves the state before it starts any process (provision), so there is nothing to find.
   */
  protected async sweepUnrecorded(_env: Environment): Promise<void> {}

  async adopt(env: Environment): Promise<void> {
    const rt = await this.runtime(env);
    await rt.reconcile();
    await this.logs.ensureReaders(rt.state);
  }

  async deploy(env: Environment, release: Release, options: DeployOptions): Promise<DeployOutcome> {
    const rt = await this.runtime(env);
    return new RollingDeploy(rt, options).run(release);
  }

  async flushCaches(env: Environment, paths?: string[]): Promise<void> {
    const rt = await this.runtime(env);
    await Promise.all(rt.state.dispatchers.map((_, i) => rt.varnish(i).ban(paths)));
  }

  async entryPoints(env: Environment): Promise<EntryPoints> {
    const state = await loadState(this.envDir(env));
    if (!state) return {};
    return {
      ...(state.author.release ? { author: nodeUrl(state.author.port) } : {}),
      publish: nodeUrl(state.loadBalancer.port),
    };
  }

  async describe(env: Environment): Promise<TopologyView> {
    const rt = await this.runtime(env);
    const { state } = rt;
    const servers = await rt.loadBalancer.admin.servers().catch(() => []);
    const appView = async (n: AppNodeState): Promise<NodeView> => ({
      name: n.name, role: n.role, url: nodeUrl(n.port),
      healthy: n.release !== undefined && await isHealthy(n.port, rt.healthPathOf(n)),
      ...(n.process?.container ? { container: n.process.container } : {}),
      ...(n.release ? { release: { version: n.release.version, appImage: n.release.appImage } } : {}),
    });
    const dispatcherView = async (d: DispatcherState, i: number): Promise<NodeView> => {
      const status = servers.find((s) => s.server === d.server)?.status ?? 'unknown';
      const cache = await rt.varnish(i).cacheStats().catch(() => undefined);
      return {
        name: d.name, role: 'dispatcher', url: nodeUrl(d.port),
        healthy: await isHealthy(d.port, d.healthPath ?? state.healthPath),
        ...(d.release ? { release: { version: d.release.version, ...(d.release.dispatcherImage ? { dispatcherImage: d.release.dispatcherImage } : {}) } } : {}),
        lbState: lbStateOf(status),
        ...(cache ? { cache } : {}),
      };
    };
    return {
      environmentId: state.environmentId,
      author: await appView(state.author),
      publish: await Promise.all(state.publish.map(appView)),
      dispatchers: await Promise.all(state.dispatchers.map(dispatcherView)),
      loadBalancer: {
        name: 'lb', role: 'loadBalancer', url: nodeUrl(state.loadBalancer.port),
        healthy: await isHealthy(state.loadBalancer.port, state.loadBalancer.checkPath ?? state.healthPath),
      },
    };
  }

  /** Stops supervising (nodes keep running). */
  close(): void {
    this.supervisor?.close();
    this.logs.close();
  }
}
