// Composition root: one Slipway = store + engine + steps + topology driver + event bus.
// The server, the demo and the tests all assemble Slipway through here.
import { FsArtifactStore } from './artifacts/fs-store.ts';
import { DEFAULT_MAX_LOG_BYTES, type Config } from './config.ts';
import { secureDataDir } from './data-dir.ts';
import { systemClock, type Clock } from './engine/clock.ts';
import { Engine } from './engine/engine.ts';
import type { Runtime } from './engine/runtime.ts';
import { Wakeup } from './engine/wakeup.ts';
import { EventBus } from './events/bus.ts';
import { WebhookDelivery, type DeliveryOptions } from './events/delivery.ts';
import type { HandlerRegistry } from './steps/handler.ts';
import { migrate, openDb } from './store/db.ts';
import { getEnvironment, listEnvironments } from './store/environments.ts';
import { LogStore } from './store/logs.ts';
import { openSecretBox } from './secrets-key.ts';
import type { TopologyDriver } from './topology/driver.ts';
import { topologyDrivers } from './topology/default-drivers.ts';

/** What createSlipway reads from the configuration; the rest has defaults. */
export type SlipwayConfig = Pick<Config, 'dataDir' | 'databaseUrl'>
  & Partial<Pick<Config, 'secretsKey' | 'secretsKeyFile' | 'programConcurrency' | 'maxLogBytes'>>;

export interface Slipway {
  config: SlipwayConfig;
  rt: Runtime;
  engine: Engine;
  logs: LogStore;
  artifacts: FsArtifactStore;
  driver: TopologyDriver;
  handlers: HandlerRegistry;
  /** Takes over the environments' running nodes (restarting dead ones); call once at start-up. */
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
  const logs = new LogStore(config.dataDir, { maxBytes: config.maxLogBytes ?? DEFAULT_MAX_LOG_BYTES });
  const artifacts = new FsArtifactStore(config.dataDir);
  const driver = options.driver ?? topologyDrivers({ dataDir: config.dataDir, store: artifacts, log: options.log });
  // Loaded only when needed: the shipped steps pull in heavy modules (ESLint, Lighthouse, ...).
  const handlers = options.handlers ?? (await import('./steps/registry.ts'))
    .shippedHandlers({ environment: (id) => getEnvironment(db.kysely, id) });
  const engine = new Engine({
    rt, logs, artifacts, driver, dataDir: config.dataDir, handlers,
    workerId: options.workerId, leaseMs: options.leaseMs, concurrency: options.concurrency,
    programConcurrency: options.programConcurrency ?? config.programConcurrency,
    onError: (e) => options.log?.(`engine: ${e instanceof Error ? e.stack ?? e.message : String(e)}`),
  });
  if (options.runEngine !== false) await engine.start();
  let webhooks: WebhookDelivery | undefined;
  return {
    config, rt, engine, logs, artifacts, driver, handlers,
    async adoptEnvironments() {
      for (const env of await listEnvironments(db.kysely)) {
        if (env.status !== 'ready') continue;
        await driver.adopt(env).catch((e: unknown) =>
          options.log?.(`environment ${env.name} (${env.id}) could not be taken over: ${e instanceof Error ? e.message : String(e)}`));
      }
    },
    get webhooks() {
      return webhooks;
    },
    startWebhooks(delivery) {
      webhooks ??= new WebhookDelivery(rt, {
        onError: (e) => options.log?.(`webhooks: ${e instanceof Error ? e.stack ?? e.message : String(e)}`), ...delivery,
      });
      webhooks.start();
      return webhooks;
    },
    async close() {
      await webhooks?.stop();
      await engine.stop();
      unsubscribeRemote();
      await driver.close?.();
      await wakeup.stop();
      await db.close();
    },
  };
}
