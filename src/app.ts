// Composition root: one Slipway = store + engine + steps + topology driver + event bus.
// The server, the demo and the tests all assemble Slipway through here.
import { inspect } from 'node:util';
import { FsArtifactStore } from './artifacts/fs-store.ts';
import { DEFAULT_MAX_LOG_BYTES, type Config } from './config.ts';
import { secureDataDir } from './data-dir.ts';
import { systemClock, type Clock } from './engine/clock.ts';
import { Engine } from './engine/engine.ts';
import { resumeEnvironments } from './engine/environments.ts';
import type { Runtime } from './engine/runtime.ts';
import { Wakeup } from './engine/wakeup.ts';
import { warmUpSandbox } from './runner/sandbox.ts';
import { EventBus } from './events/bus.ts';
import { WebhookDelivery, type DeliveryOptions } from './events/delivery.ts';
import type { Environment } from './domain/model.ts';
import { BUILD_LIMITS } from './steps/build.ts';
import type { HandlerRegistry } from './steps/handler.ts';
import { migrate, openDb } from './store/db.ts';
import { getEnvironment, listEnvironments } from './store/environments.ts';
import { LogStore } from './runner/logs.ts';
import { openSecretBox } from './secrets-key.ts';
import type { TopologyDriver } from './topology/driver.ts';
import { topologyDrivers } from './topology/default-drivers.ts';
import { opened } from './live-instances.ts';

/** What createSlipway reads from the configuration; the rest has defaults. */
export type SlipwayConfig = Pick<Config, 'dataDir' | 'databaseUrl'>
  & Partial<Pick<Config, 'secretsKey' | 'secretsKeyFile' | 'programConcurrency' | 'activeEngines' | 'maxLogBytes' | 'publicUrl' | 'registry'>>;

export interface Slipway {
  config: SlipwayConfig;
  rt: Runtime;
  engine: Engine;
  logs: LogStore;
  artifacts: FsArtifactStore;
  driver: TopologyDriver;
  handlers: HandlerRegistry;
  /**
   * Where clients reach this Slipway (its registry's images are named after it): SLIPWAY_PUBLIC_URL,
   * else what the API server reports once it listens; undefined in a process without either.
   */
  publicUrl(): string | undefined;
  /** The API server says where it listens (used when SLIPWAY_PUBLIC_URL is not set). */
  setListenUrl(source: () => string | undefined): void;
  /**
   * Call once at start-up: takes over the ready environments' running nodes (restarting dead
   * ones), and finishes what a crash cut off (environments left `creating` or `deleting`), so
   * that none stays half made.
   */
  adoptEnvironments(): Promise<void>;
  /** Starts delivering webhooks (the server does, once it knows its public URL); once per Slipway. */
  startWebhooks(options: DeliveryOptions): WebhookDelivery;
  /** The delivery loop once started (the API pokes it after a redeliver). */
  readonly webhooks?: WebhookDelivery;
  close(): Promise<void>;
}

export interface SlipwayOptions {
  clock?: Clock;
  handlers?: HandlerRegistry;
  driver?: TopologyDriver;
  workerId?: string;
  leaseMs?: number;
  concurrency?: number;
  /** Slots one program may hold (overrides the configuration; default half of `concurrency`). */
  programConcurrency?: number;
  /** Engine processes of this host that claim at once (overrides the configuration; engine.ts). */
  activeEngines?: number;
  /** false: store and commands only, no engine claiming work (API-only processes, tests). */
  runEngine?: boolean;
  log?: (line: string) => void;
}

export async function createSlipway(config: SlipwayConfig, options: SlipwayOptions = {}): Promise<Slipway> {
  secureDataDir(config.dataDir);
  const db = openDb(config);
  await migrate(db);
  // The database file exists now: tighten it too (its first creation may predate the umask).
  secureDataDir(config.dataDir);
  const secrets = await openSecretBox(config, db);
  const wakeup = new Wakeup(db);
  await wakeup.start();
  const rt: Runtime = { db, wakeup, bus: new EventBus(), clock: options.clock ?? systemClock, secrets };
  // What engines in other processes commit reaches this process's live views too.
  const unsubscribeRemote = wakeup.onRemoteEvent((event) => rt.bus.emit(event));
  rt.bus.onFirstSubscriber(() => void wakeup.wantEvents());
  const logs = new LogStore(config.dataDir, { maxBytes: config.maxLogBytes ?? DEFAULT_MAX_LOG_BYTES });
  const artifacts = new FsArtifactStore(config.dataDir);
  const driver = options.driver ?? topologyDrivers({ dataDir: config.dataDir, store: artifacts, log: options.log });
  let listenUrl: () => string | undefined = () => undefined;
  const publicUrl = (): string | undefined => config.publicUrl ?? listenUrl();
  // Loaded only when needed: the shipped steps pull in heavy modules (ESLint, Lighthouse, ...).
  const handlers = options.handlers ?? (await import('./steps/registry.ts'))
    .shippedHandlers({ environment: (id) => getEnvironment(db.kysely, id), publicUrl, pushTo: () => config.registry });
  const engine = new Engine({
    rt, logs, artifacts, driver, dataDir: config.dataDir, handlers,
    workerId: options.workerId, leaseMs: options.leaseMs, concurrency: options.concurrency,
    programConcurrency: options.programConcurrency ?? config.programConcurrency,
    activeEngines: options.activeEngines ?? config.activeEngines,
    onError: (e) => options.log?.(`engine: ${inspect(e)}`),
  });
  if (options.runEngine !== false) {
    await engine.start();
    // The first build's chain and launchers are ready before it (runner/sandbox.ts).
    warmUpSandbox({ dataDir: config.dataDir, limits: BUILD_LIMITS });
  }
  const closed = opened('Slipway');
  let webhooks: WebhookDelivery | undefined;
  const report = (env: Environment, e: unknown, what: string) =>
    // inspect: the stack, and the driver's error beneath it (its `cause`).
    options.log?.(`environment ${env.name} (${env.id}) ${what}: ${inspect(e)}`);
  return {
    config, rt, engine, logs, artifacts, driver, handlers, publicUrl,
    setListenUrl(source) {
      listenUrl = source;
    },
    async adoptEnvironments() {
      for (const env of await listEnvironments(db.kysely)) {
        if (env.status !== 'ready') continue;
        await driver.adopt(env).catch((e: unknown) => report(env, e, 'could not be taken over'));
      }
      await resumeEnvironments(rt, driver, (env, e) => report(env, e, 'could not be finished after a restart'));
    },
    get webhooks() {
      return webhooks;
    },
    startWebhooks(delivery) {
      webhooks ??= new WebhookDelivery(rt, {
        onError: (e) => options.log?.(`webhooks: ${inspect(e)}`), ...delivery,
      });
      webhooks.start();
      return webhooks;
    },
    async close() {
      closed();
      await webhooks?.stop();
      await engine.stop();
      unsubscribeRemote();
      await driver.close?.();
      await wakeup.stop();
      await db.close();
    },
  };
}
