// The driver interface between the deploy/test steps and whatever runs an environment.
// The local driver (local/) runs app nodes as supervised processes, Varnish dispatchers and
// an HAProxy load balancer on this machine; a Kubernetes driver can implement the same.
import type { Environment, TopologyDriverName } from '../domain/model.ts';

export type NodeRole = 'author' | 'publish' | 'dispatcher' | 'loadBalancer';

/** What a node runs: image digests plus the environment's variables for its service. */
export interface Release {
  /** Human-readable version (artifactsVersion) shown in API/UI and sent as a response header. */
  version: string;
  appImage: string; // digest of the app OCI image manifest
  dispatcherImage?: string; // digest of the dispatcher package OCI image manifest
  /** Environment variables of the publish service. */
  variables: Record<string, string>;
  /** Environment variables of the author service (default: the publish ones). */
  authorVariables?: Record<string, string>;
}

export interface NodeView {
  name: string; // e.g. "author", "publish-1", "dispatcher-1", "lb"
  role: NodeRole;
  url: string; // http://127.0.0.1:PORT
  healthy: boolean;
  /** The podman container of an app node on the container driver. */
  container?: string;
  release?: { version: string; appImage?: string; dispatcherImage?: string };
  /** Load balancer membership of a dispatcher: READY, DRAIN, MAINT. */
  lbState?: string;
  /** Dispatcher cache statistics. */
  cache?: { hits: number; misses: number };
}

export interface TopologyView {
  environmentId: string;
  author: NodeView;
  publish: NodeView[];
  dispatchers: NodeView[];
  loadBalancer: NodeView;
}

/** Where an environment's site answers: absolute URLs, for clients to visit. */
export interface EntryPoints {
  /** The author node, once it runs a release. */
  author?: string;
  /** The environment's entry point: the load balancer in front of the dispatchers. */
  publish?: string;
}

/** Cloud Manager's `environmentUrls` of a deploy step: publish (the entry point) first, then author. */
export interface EnvironmentUrl {
  instanceType: 'author' | 'publish';
  instanceUrl: string;
}

export function environmentUrlsOf(points: EntryPoints): EnvironmentUrl[] {
  return (['publish', 'author'] as const).flatMap((type) => {
    const url = points[type];
    return url ? [{ instanceType: type, instanceUrl: url }] : [];
  });
}

/** One progress record of a deploy, as Cloud Manager shows deploy commands. */
export interface DeployProgress {
  node: string;
  action: string; // drain, deploy, flush, warm, health, attach, rollback...
  status: 'RUNNING' | 'FINISHED' | 'FAILED';
  at: string; // ISO timestamp
  message?: string;
}

/** What a deployment already completed: its own progress record (the deploy step keeps it). */
export interface DeployDone {
  author: boolean;
  /** Pair indexes (0-based): publish-(i+1) with dispatcher-(i+1). */
  pairs: number[];
}

/** A command the deployment expects to run (Cloud Manager's deployCommands). */
export interface PlannedCommand {
  node: string;
  action: string;
}

export interface DeployOptions {
  /** Publish/dispatcher pairs changed at once. */
  batchSize: number;
  /** Longest wait for a drained dispatcher's in-flight requests to reach 0. */
  maxDrainMs: number;
  /** Deploy only the dispatcher package (webTier pipelines). */
  dispatcherOnly?: boolean;
  signal: AbortSignal;
  log(line: string): void;
  onProgress(progress: DeployProgress): void;
  /** Resuming a deployment cut off by a crash: what it completed before (left out now). */
  done?: DeployDone;
  /** Called each time author or a pair completes its cycle, with everything done so far. */
  onDone?(done: DeployDone): void;
  /** Called once the deployment is planned, with the commands it expects to run. */
  onPlan?(commands: PlannedCommand[]): void;
  /** Called once when a failed roll starts putting the previous release back. */
  onRollback?(reason: string): void | Promise<void>;
}

export type DeployOutcome =
  | { outcome: 'deployed' }
  | { outcome: 'rolledBack'; reason: string }
  | { outcome: 'failed'; reason: string };

/** The UTC day of a moment, YYYY-MM-DD: environment logs are kept per UTC day. */
export const dayOf = (d: Date): string => d.toISOString().slice(0, 10);

/** The `days` UTC days ending with `now`'s, newest first. */
export function lastDays(now: Date, days: number): string[] {
  return Array.from({ length: days }, (_, i) => dayOf(new Date(now.getTime() - i * 86_400_000)));
}

/** A log Cloud Manager clients can ask for: `service` (author, publish, dispatcher, cdn) and log `name`. */
export interface LogOption {
  service: string;
  name: string;
}

/** One node's log of one UTC day (`date` is YYYY-MM-DD). */
export interface NodeLogDay {
  /** 1-based node number within the service (publish-2 → 2); 1 for single-node services. */
  node: number;
  /** The driver's name for the file, handed back to `open`. */
  stream: string;
  date: string;
  size: number;
}

/** The nodes' real logs, kept per UTC day (see local/node-logs.ts for what each name holds). */
export interface EnvironmentLogs {
  options(): LogOption[];
  /** The logs of one option on one day, in node order; [] when there are none. */
  days(env: Environment, option: LogOption, date: string): Promise<NodeLogDay[]>;
  /** A day file to read (after collecting what the nodes wrote until now), or undefined. */
  open(env: Environment, stream: string, date: string): Promise<{ path: string; size: number } | undefined>;
}

/** The drivers an environment may choose when it is created (drivers.ts). */
export interface DriverChoice {
  /** Why the driver cannot run environments on this machine, or undefined when it can. */
  problem(name: TopologyDriverName): Promise<string | undefined>;
  /** What an environment created without a choice gets: containers wherever they work. */
  defaultName(): Promise<TopologyDriverName>;
}

export interface TopologyDriver {
  /** Set when environments choose among several drivers (settings.driver). */
  readonly choice?: DriverChoice;
  /** The nodes' logs; absent on drivers that keep none. */
  readonly logs?: EnvironmentLogs;
  /** Creates the environment's nodes; returns driver state to keep in environment.settings.topology. */
  provision(env: Environment): Promise<unknown>;
  destroy(env: Environment): Promise<void>;
  /** At start-up: take over nodes that kept running while Slipway was stopped, restart dead ones. */
  adopt(env: Environment): Promise<void>;
  describe(env: Environment): Promise<TopologyView>;
  /** The entry points from the driver's own record (no health checks: the API asks on every read). */
  entryPoints?(env: Environment): Promise<EntryPoints>;
  /**
   * The rolling deployment (docs/design.md §1): author first, then each batch of pairs drained,
   * deployed, flushed, warmed, health-checked and put back. Every call takes author and every
   * pair through that cycle, the release they already run included (a re-execution wipes and
   * warms the caches too). Resuming is the caller's record, not the nodes' releases: what
   * `options.done` names is left out, and `onDone` reports each completed part to record.
   * The health path is the release's own: the app image's `io.slipway.health` label.
   */
  deploy(env: Environment, release: Release, options: DeployOptions): Promise<DeployOutcome>;
  /** Bans the dispatcher caches (all paths, or those given). */
  flushCaches(env: Environment, paths?: string[]): Promise<void>;
  /** Stops watching the environments; their nodes keep serving. */
  close?(): Promise<void> | void;
}
