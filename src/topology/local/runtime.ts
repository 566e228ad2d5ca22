// One provisioned environment at run time: its recorded state plus the operations the rolling
// deploy is made of (start/switch app nodes, load VCL, drain/attach, flush, warm, health).
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { HEALTH_LABEL } from '../../artifacts/artifact-types.ts';
import { readImageConfig } from '../../artifacts/oci-format.ts';
import type { ArtifactStore } from '../../artifacts/store.ts';
import { sameAppRelease } from '../../domain/rolling-plan.ts';
import { HaproxyAdmin } from './haproxy.ts';
import { freePort } from '../../runner/free-port.ts';
import { httpGet, isHealthy, waitFor } from './http.ts';
import { ImageCache, type UnpackImage } from './images.ts';
import { startHaproxy, startVarnish } from './nodes.ts';
import { SandboxAppRunner, type AppRunner } from './app-runner.ts';
import { isOurProcess, type ProcessRecord } from './proc.ts';
import { loadState, saveState, type AppNodeState, type AppRelease, type DispatcherRelease, type TopologyState } from './state.ts';
import { chooseSlot, portIsFree, slotIndex, type SlotChoice, type SlotPorts } from './slots.ts';
import type { Supervisor } from './supervisor.ts';
import { generateVcl, isCacheable, VarnishAdmin } from './varnish.ts';

/** A failure that the rolling deploy answers with a rollback. */
export class DeployFailure extends Error {
  override name = 'DeployFailure';
}

export interface RuntimeOptions {
  store: ArtifactStore;
  unpack: UnpackImage;
  log: (line: string) => void;
  healthTimeoutMs: number;
  warmTimeoutMs: number;
  stopGraceMs: number;
  supervisor?: Supervisor;
  /** How app nodes run (default: the sandbox, from the unpacked image). */
  apps?: (images: ImageCache) => AppRunner;
}

const POLL_MS = 20;

export interface SwitchOptions {
  /** Port for the new process (default: a fresh one). */
  port?: number;
  /** Points traffic at the new, healthy process (publish: its dispatcher's VCL). */
  switchTo?: (port: number) => Promise<void>;
  onStarted?: (ms: number) => void;
  deferStop?: (stopping: Promise<void>) => void;
}

/** A new process started beside the node's current one, healthy, not switched to yet. */
export interface StartedApp {
  node: AppNodeState;
  release: AppRelease;
  port: number;
  process: ProcessRecord;
  /** From spawn to healthy. */
  ms: number;
}

/** A VCL compiled ahead of its switch (cold: no probes until it is used), its slots already routed. */
export interface PreparedVcl {
  name: string;
  file: string;
  slotPorts: SlotPorts;
  /** The slot port it routes to. */
  backendPort: number;
  release: DispatcherRelease | undefined;
  /** The publish health path it probes (and maps the dispatcher's health endpoint to). */
  healthPath: string;
}

export function sameDispatcherRelease(a: DispatcherRelease | undefined, b: DispatcherRelease | undefined): boolean {
  return (a?.dispatcherImage ?? null) === (b?.dispatcherImage ?? null) && (a === undefined) === (b === undefined);
}

/**
 * Restarts of a dispatcher or a load balancer in flight in this Slipway, by state dir and node:
 * the supervisor and a deploy or adopt (each with its own EnvRuntime) may find it dead at once.
 */
const restarts = new Map<string, Promise<void>>();

export class EnvRuntime {
  readonly lb: HaproxyAdmin;
  readonly images: ImageCache;
  readonly apps: AppRunner;
  private saving: Promise<void> = Promise.resolve();
  /** Servers a deploy has drained and not yet put back: a restarted HAProxy must drain them again. */
  private readonly drained = new Set<string>();

  constructor(readonly state: TopologyState, private readonly opts: RuntimeOptions) {
    this.lb = new HaproxyAdmin(state.loadBalancer.socket);
    this.images = new ImageCache(join(state.dir, 'images'), opts.store, opts.unpack);
    this.apps = opts.apps?.(this.images) ?? new SandboxAppRunner(this.images);
  }

  get logDir(): string { return join(this.state.dir, 'logs'); }

  varnish(i: number): VarnishAdmin { return new VarnishAdmin(this.dispatcher(i).workDir); }

  dispatcher(i: number) {
    const d = this.state.dispatchers[i];
    if (!d) throw new Error(`no dispatcher ${i + 1}`);
    return d;
  }

  publish(i: number): AppNodeState {
    const p = this.state.publish[i];
    if (!p) throw new Error(`no publish ${i + 1}`);
    return p;
  }

  /** Writes are serialized: the supervisor and a deploy may both record changes. */
  save(): Promise<void> {
    const next = this.saving.catch(() => undefined).then(() => saveState(this.state));
    this.saving = next;
    return next;
  }

  /** The health path of what an app node runs (older states recorded none: the default). */
  healthPathOf(node: AppNodeState): string {
    return node.release?.healthPath ?? this.state.healthPath;
  }

  /** The health path an app image declares (its HEALTH_LABEL), else the environment default. */
  async releaseHealthPath(appImage: string): Promise<string> {
    // The config blob alone: no need to unpack an image (or pull it into podman) to read a label.
    const label = (await readImageConfig(this.opts.store, appImage)).config.Labels?.[HEALTH_LABEL];
    return label !== undefined && /^\/[^\s"]*$/.test(label) ? label : this.state.healthPath;
  }

  // ---- processes -------------------------------------------------------------------------

  private spawnApp(node: AppNodeState, release: AppRelease, port: number): Promise<ProcessRecord> {
    return this.apps.start({
      environmentId: this.state.environmentId, node, release, port, logDir: this.logDir,
      runDir: join(this.state.dir, 'run', node.name),
      // The env dir is <dataDir>/environments/<id>: the app sees none of the data dir.
      hidePaths: [dirname(dirname(this.state.dir))],
      log: this.opts.log,
    });
  }

  private watch(node: AppNodeState): void {
    this.opts.supervisor?.watch(`${this.state.environmentId}/${node.name}`, {
      current: () => node.process,
      restart: () => this.restartApp(node),
    });
  }

  /** Restarts an app node on its recorded port with its recorded release. */
  async restartApp(node: AppNodeState): Promise<void> {
    if (!node.release || isOurProcess(node.process)) return;
    const was = node.process;
    await this.apps.stop(was, this.opts.stopGraceMs); // frees what the dead one left (cgroups, staging dir, container)
    const spawned = await this.spawnApp(node, node.release, node.port);
    if (node.process !== was) {
      // A deploy switched the node to a new process while this one was starting: keep theirs.
      await this.apps.stop(spawned, this.opts.stopGraceMs);
      return;
    }
    node.process = spawned;
    await this.save();
    this.opts.log(`${node.name}: restarted as pid ${spawned.pid}`);
  }

  async startDispatcher(i: number): Promise<void> {
    const d = this.dispatcher(i);
    const admin = this.varnish(i);
    const up = await startUntilUp(() => {
      const spawned = startVarnish(d, this.logDir);
      d.process = spawned.record;
      d.activeVcl = 'boot';
      return spawned.record;
    }, () => admin.ping(), 30_000);
    if (!up) throw new Error(`${d.name}: varnishd did not start (see ${d.name}.log)`);
    await this.restoreRouting(i);
    await this.save();
  }

  /**
   * A (re)started varnishd forgets set_health, and `.initial` makes both slots healthy: route
   * at once to the slot the publish node's recorded process runs on (HAProxy needs two good
   * checks, a second, before it sends the dispatcher anything).
   */
  private async restoreRouting(i: number): Promise<void> {
    const d = this.dispatcher(i);
    if (!d.slotPorts) return; // a VCL from before slots: a single backend
    const pubPort = this.publish(i).port;
    const port = slotIndex(d.slotPorts, pubPort) !== undefined ? pubPort : d.backendPort;
    const index = slotIndex(d.slotPorts, port);
    if (index === undefined) return;
    await this.varnish(i).routeTo(index);
    d.backendPort = port;
  }

  async startLoadBalancer(): Promise<void> {
    const up = await startUntilUp(() => {
      const spawned = startHaproxy(this.state.loadBalancer, this.logDir);
      this.state.loadBalancer.process = spawned.record;
      return spawned.record;
    }, async () => (await this.lb.command('show info').catch(() => '')).includes('Name:'), 15_000);
    if (!up) throw new Error('load balancer: haproxy did not start (see loadBalancer.log)');
    for (const server of this.drained) await this.lb.setState(server, 'drain');
    await this.save();
  }

  /**
   * Restarts a dispatcher or the load balancer if it is dead, one restart per node at a time:
   * a caller that finds one in flight waits for it and takes the record it saved (`refresh`).
   * True if the node had to be restarted.
   */
  private async ensure(name: string, current: () => ProcessRecord | undefined, refresh: (saved: TopologyState) => void,
    start: () => Promise<void>): Promise<boolean> {
    const key = join(this.state.dir, name);
    let waited = false;
    for (let running = restarts.get(key); running; running = restarts.get(key)) {
      waited = true;
      await running.catch(() => undefined);
      const saved = await loadState(this.state.dir);
      if (saved) refresh(saved);
    }
    if (isOurProcess(current())) return waited;
    this.opts.log(`${name}: not running, restarting`);
    const restart = start().finally(() => restarts.delete(key));
    restarts.set(key, restart);
    await restart;
    return true;
  }

  /** Restarts dispatcher i if its varnishd died (killed, crashed); true if it had to. */
  ensureDispatcher(i: number): Promise<boolean> {
    const d = this.dispatcher(i);
    return this.ensure(d.name, () => d.process, (saved) => {
      const s = saved.dispatchers[i];
      if (s) Object.assign(d, { process: s.process, activeVcl: s.activeVcl, backendPort: s.backendPort });
    }, () => this.startDispatcher(i));
  }

  /** Restarts HAProxy if it died; true if it had to. */
  ensureLoadBalancer(): Promise<boolean> {
    const lb = this.state.loadBalancer;
    return this.ensure('loadBalancer', () => lb.process, (saved) => { lb.process = saved.loadBalancer.process; },
      () => this.startLoadBalancer());
  }

  /** Dispatchers and the load balancer are restarted by the supervisor, like app nodes. */
  private watchServers(): void {
    const env = this.state.environmentId;
    this.opts.supervisor?.watch(`${env}/loadBalancer`, {
      current: () => this.state.loadBalancer.process,
      restart: async () => { await this.ensureLoadBalancer(); },
    });
    this.state.dispatchers.forEach((d, i) => this.opts.supervisor?.watch(`${env}/${d.name}`, {
      current: () => d.process,
      restart: async () => { await this.ensureDispatcher(i); },
    }));
  }

  /**
   * Takes over the environment: kills processes a cut-off deploy started but never switched
   * to, restarts dead nodes, and supervises every node from now on.
   */
  async reconcile(): Promise<void> {
    const apps = [this.state.author, ...this.state.publish];
    for (const node of apps) {
      if (node.pending) {
        await this.apps.stop(node.pending.process, this.opts.stopGraceMs);
        node.pending = undefined;
      }
    }
    const recorded = apps.flatMap((n) => (n.process ? [n.process] : []));
    await this.apps.sweep?.(this.state.environmentId, recorded);
    this.watchServers();
    await this.ensureLoadBalancer();
    for (let i = 0; i < this.state.dispatchers.length; i++) await this.ensureDispatcher(i);
    for (const node of apps) {
      // A node that never got a release runs nothing yet: there is nothing to keep alive.
      if (!node.release) continue;
      await this.restartApp(node);
      this.watch(node);
    }
    await this.save();
  }

  // ---- app nodes -------------------------------------------------------------------------

  /**
   * Starts `release` on a new port, waits for its health check, lets the caller switch
   * traffic to it (`switchTo`), records it, then stops the old process gracefully (or hands
   * that stop to `deferStop`, so it leaves the critical path).
   */
  async switchApp(node: AppNodeState, release: AppRelease | undefined, how: SwitchOptions = {}): Promise<void> {
    if (!release) { // rolled back to "nothing deployed yet"
      this.opts.supervisor?.unwatch(`${this.state.environmentId}/${node.name}`);
      const old = node.process;
      node.process = undefined;
      node.release = undefined;
      await this.save();
      await this.apps.stop(old, this.opts.stopGraceMs);
      return;
    }
    const started = await this.startBeside(node, release, how.port);
    how.onStarted?.(started.ms);
    await this.takeOver(started, how);
  }

  /**
   * Starts `release` beside what the node runs now, on `port` (default: a fresh one), and waits
   * for its health check; nothing is switched yet. Recorded as the node's `pending` process,
   * so a Slipway killed before the switch leaves no stray (reconcile stops it). A process
   * that fails its check is stopped before this throws.
   */
  async startBeside(node: AppNodeState, release: AppRelease, port?: number): Promise<StartedApp> {
    const startedAt = Date.now();
    const on = port ?? await freePort();
    const spawned = await this.spawnApp(node, release, on);
    node.pending = { port: on, process: spawned };
    await this.save();
    const started: StartedApp = { node, release, port: on, process: spawned, ms: 0 };
    const healthPath = release.healthPath ?? this.state.healthPath;
    const healthy = await waitFor(() => isHealthy(on, healthPath),
      { timeoutMs: this.opts.healthTimeoutMs, intervalMs: 25, giveUp: () => !isOurProcess(spawned) });
    if (!healthy) {
      await this.discard(started);
      throw new DeployFailure(`${node.name}: release ${release.version} failed its health check on ${healthPath}`);
    }
    started.ms = Date.now() - startedAt;
    return started;
  }

  /** Stops a process started beside and never switched to. */
  async discard(started: StartedApp): Promise<void> {
    await this.apps.stop(started.process, this.opts.stopGraceMs);
    if (started.node.pending?.process === started.process) {
      started.node.pending = undefined;
      await this.save();
    }
  }

  /**
   * Makes a process started beside the node's own: the caller switches traffic to it
   * (`switchTo`), then it is recorded and the old one stopped. A failed switch stops the new one.
   */
  async takeOver(started: StartedApp, how: Pick<SwitchOptions, 'switchTo' | 'deferStop'> = {}): Promise<void> {
    const { node, release, port, process: spawned } = started;
    try {
      await how.switchTo?.(port);
    } catch (err) {
      await this.discard(started);
      throw err;
    }
    const key = `${this.state.environmentId}/${node.name}`;
    this.opts.supervisor?.unwatch(key);
    const old = node.process;
    Object.assign(node, { process: spawned, port, release, pending: undefined });
    await this.save();
    this.watch(node);
    const stopping = this.apps.stop(old, this.opts.stopGraceMs);
    if (how.deferStop) how.deferStop(stopping); else await stopping;
  }

  // ---- dispatchers and load balancer -----------------------------------------------------

  /** Pair i's slots and the port its next publish process gets (see slots.ts). */
  async chooseSlot(i: number, keepApp: boolean): Promise<SlotChoice> {
    const d = this.dispatcher(i);
    const choice = await chooseSlot({ recorded: d.slotPorts, current: this.publish(i).port, keepApp, isFree: portIsFree, freshPort: freePort });
    if (choice.needsVcl && d.slotPorts) this.opts.log(`${d.name}: slots ${d.slotPorts.join(',')} -> ${choice.slotPorts.join(',')}`);
    return choice;
  }

  /**
   * Writes and compiles (cold) the VCL for `release` declaring `slotPorts`, routed to
   * `backendPort`, probing `healthPath`. Compiling takes most of a second, so the rolling
   * deploy does it ahead, while nodes start — and only when the dispatcher package, the app's
   * health path (or the slots) change.
   */
  async prepareVcl(i: number, release: DispatcherRelease | undefined, slotPorts: SlotPorts, backendPort: number,
    healthPath: string): Promise<PreparedVcl> {
    const d = this.dispatcher(i);
    const index = slotIndex(slotPorts, backendPort);
    if (index === undefined) throw new Error(`${d.name}: port ${backendPort} is not one of the slots ${slotPorts.join(',')}`);
    const pkg = await this.images.dispatcherPackage(release?.dispatcherImage);
    d.vclSeq += 1;
    const seq = d.vclSeq;
    await this.save(); // a name Varnish may already know is never reused, even after a crash
    const file = join(this.state.dir, 'dispatchers', d.name, `vcl-${seq}.vcl`);
    await writeFile(file, generateVcl({ dispatcherName: d.name, slotPorts, healthPath, pkg }));
    const name = `v${seq}`;
    const admin = this.varnish(i);
    await admin.adm('vcl.load', name, file, 'cold');
    await admin.routeTo(index, name); // set_health holds on a cold VCL and once it is warm
    return { name, file, slotPorts, backendPort, release, healthPath };
  }

  /** Switches dispatcher i to a prepared VCL and records it. */
  async useVcl(i: number, vcl: PreparedVcl): Promise<void> {
    const d = this.dispatcher(i);
    const admin = this.varnish(i);
    // A cold VCL must be warmed (probes start, `.initial` says healthy) before it can be used;
    // back to auto afterwards so it cools down once replaced.
    await admin.adm('vcl.state', vcl.name, 'warm');
    await admin.adm('vcl.use', vcl.name);
    await admin.adm('vcl.state', vcl.name, 'auto');
    if (d.activeVcl && d.activeVcl !== vcl.name) await admin.adm('vcl.discard', d.activeVcl).catch(() => undefined);
    Object.assign(d, { activeVcl: vcl.name, vclFile: vcl.file, backendPort: vcl.backendPort, slotPorts: vcl.slotPorts,
      release: vcl.release, healthPath: vcl.healthPath });
    await this.save();
  }

  async loadVcl(i: number, release: DispatcherRelease | undefined, slotPorts: SlotPorts, backendPort: number,
    healthPath: string): Promise<void> {
    await this.useVcl(i, await this.prepareVcl(i, release, slotPorts, backendPort, healthPath));
  }

  /** Does dispatcher i need a new VCL to serve `release` in front of an app checked on `healthPath`? */
  needsVcl(i: number, release: DispatcherRelease | undefined, healthPath: string): boolean {
    const d = this.dispatcher(i);
    return !sameDispatcherRelease(d.release, release) || d.healthPath !== healthPath;
  }

  /**
   * The compile-free switch: dispatcher i routes to the slot on `port` (its active VCL declares
   * both) and now serves `release` (same package: the VCL holds). Returns once Varnish reports
   * the new routing, so the old process may be stopped.
   */
  async switchSlot(i: number, port: number, release: DispatcherRelease | undefined): Promise<void> {
    const d = this.dispatcher(i);
    const index = d.slotPorts ? slotIndex(d.slotPorts, port) : undefined;
    if (index === undefined) throw new Error(`${d.name}: port ${port} is not one of its slots`);
    await this.varnish(i).routeTo(index);
    d.backendPort = port;
    d.release = release;
    await this.save();
  }

  /** Is the VCL Varnish runs the one the state records? (Not certain after a crash mid-switch.) */
  async activeVclIsRecorded(i: number): Promise<boolean> {
    const d = this.dispatcher(i);
    const list = await this.varnish(i).adm('vcl.list').catch(() => '');
    const active = list.split('\n').map((l) => l.trim().split(/\s+/)).find((f) => f[0] === 'active');
    return d.activeVcl !== undefined && active?.[4] === d.activeVcl;
  }

  async drain(i: number): Promise<void> {
    const server = this.dispatcher(i).server;
    this.drained.add(server);
    await this.lb.setState(server, 'drain');
  }

  /** Polls `show stat` until none of the servers has a request in flight (or maxMs passes). */
  async waitDrained(pairs: readonly number[], maxMs: number): Promise<{ waitedMs: number; timedOut: boolean }> {
    const names = new Set(pairs.map((i) => this.dispatcher(i).server));
    const start = Date.now();
    const drained = await waitFor(async () => {
      const servers = await this.lb.servers();
      return servers.every((s) => !names.has(s.server) || s.scur === 0);
    }, { timeoutMs: maxMs, intervalMs: POLL_MS });
    return { waitedMs: Date.now() - start, timedOut: !drained };
  }

  /** Back into the load balancer: the dispatcher was just health-checked through, so mark it up. */
  async attach(i: number): Promise<void> {
    const server = this.dispatcher(i).server;
    if (this.publish(i).release) await this.lb.setHealth(server, 'up');
    await this.lb.setState(server, 'ready');
    this.drained.delete(server);
  }

  async flush(i: number): Promise<void> {
    await this.varnish(i).ban();
  }

  /**
   * Requests each warm path through dispatcher i until it is a cache HIT (or, if uncacheable, a
   * 2xx), the paths side by side. A 2xx MISS is asked again at once: that answer filled the cache.
   */
  async warm(i: number): Promise<string[]> {
    const d = this.dispatcher(i);
    const pkg = await this.images.dispatcherPackage(d.release?.dispatcherImage);
    const warmOne = async (path: string): Promise<string> => {
      const wantHit = isCacheable(pkg, path);
      let last = 'no answer';
      // Only one try without a pause: a path Varnish will not keep answers MISS every time.
      let atOnce = false;
      const ok = await waitFor(async () => {
        const followsMiss = atOnce;
        atOnce = false;
        try {
          const res = await httpGet(d.port, path, 5000);
          last = `${res.status} ${String(res.headers['x-cache'] ?? '')}`;
          const success = res.status >= 200 && res.status < 300;
          atOnce = !followsMiss && success && res.headers['x-cache'] === 'MISS';
          return success && (!wantHit || res.headers['x-cache'] === 'HIT');
        } catch (err) {
          last = String(err);
          return false;
        }
      }, { timeoutMs: this.opts.warmTimeoutMs, intervalMs: POLL_MS, again: () => atOnce });
      if (!ok) throw new DeployFailure(`${d.name}: warm-up of ${path} failed (last: ${last})`);
      return path;
    };
    const results = await Promise.allSettled(pkg.warm.map(warmOne));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return pkg.warm;
  }

  async healthThrough(i: number): Promise<void> {
    const d = this.dispatcher(i);
    const path = this.healthPathOf(this.publish(i));
    const ok = await waitFor(() => isHealthy(d.port, path),
      { timeoutMs: this.opts.healthTimeoutMs, intervalMs: 50 });
    if (!ok) throw new DeployFailure(`${d.name}: health check of ${path} through the dispatcher failed`);
  }

  appOnTarget(node: AppNodeState, release: AppRelease): boolean {
    return sameAppRelease(node.release, release) && isOurProcess(node.process);
  }
}

/**
 * Starts a server process until it answers. One that exits at once is started again a few
 * times: a predecessor killed a moment ago (its worker children die after it) can still hold
 * the port or the work directory.
 */
async function startUntilUp(
  start: () => Parameters<typeof isOurProcess>[0], ready: () => Promise<boolean>, timeoutMs: number,
): Promise<boolean> {
  for (let attempt = 1; attempt <= 4; attempt++) {
    if (attempt > 1) await new Promise((r) => setTimeout(r, 500 * attempt));
    const record = start();
    if (await waitFor(ready, { timeoutMs, intervalMs: 50, giveUp: () => !isOurProcess(record) })) return true;
    if (isOurProcess(record)) return false; // alive but not answering: starting another would not help
  }
  return false;
}
