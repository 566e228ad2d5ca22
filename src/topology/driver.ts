// The driver interface between the deploy/test steps and whatever runs an environment.
// The local driver (local/) runs app nodes as supervised processes, Varnish dispatchers and
// an HAProxy load balancer on this machine; a Kubernetes driver can implement the same.
import type { Environment } from '../domain/model.ts';

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

/** One progress record of a deploy, as Cloud Manager shows deploy commands. */
export interface DeployProgress {
  node: string;
  action: string; // drain, deploy, flush, warm, health, attach, rollback...
  status: 'RUNNING' | 'FINISHED' | 'FAILED';
  at: string; // ISO timestamp
  message?: string;
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

export interface TopologyDriver {
  /** The nodes' logs; absent on drivers that keep none. */
  readonly logs?: EnvironmentLogs;
  /** Creates the environment's nodes; returns driver state to keep in environment.settings.topology. */
  provision(env: Environment): Promise<unknown>;
  destroy(env: Environment): Promise<void>;
  /** At start-up: take over nodes that kept running while Slipway was stopped, restart dead ones. */
  adopt(env: Environment): Promise<void>;
  describe(env: Environment): Promise<TopologyView>;
  /**
   * The rolling deployment (DESIGN.md §1): author first, then each batch of pairs drained,
   * deployed, flushed, warmed, health-checked and put back. Idempotent: pairs that already run
   * `release` are left alone, so a deploy cut off by a crash can simply run again.
   */
  deploy(env: Environment, release: Release, options: DeployOptions): Promise<DeployOutcome>;
  /** Bans the dispatcher caches (all paths, or those given). */
  flushCaches(env: Environment, paths?: string[]): Promise<void>;
  /** Stops watching the environments; their nodes keep serving. */
  close?(): Promise<void> | void;
}
