// The server process behind `slipway serve` and `slipway demo`: the composition of Slipway,
// its HTTP API and its triggers, started and stopped as one. It keeps its bootstrap admin token
// in <dataDir>/admin-token (mode 600) so the CLI next to it and later restarts use the same one.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer } from './api/server.ts';
import { createSlipway, type Slipway } from './app.ts';
import type { Config } from './config.ts';
import { ADMIN_TOKEN_FILE, restrictUmask } from './data-dir.ts';
import { closeInheritedDescriptors } from './runner/inherited-fds.ts';
import { startCommitWatcher } from './triggers/commit-watcher.ts';

export interface RunningServer {
  config: Config;
  slipway: Slipway;
  app: FastifyInstance;
  url: string;
  adminToken: string;
  close(): Promise<void>;
}

/** The admin token: SLIPWAY_ADMIN_TOKEN, else the one kept in the data dir, else a new one kept there. */
export function adminTokenFor(config: Config): { token: string; fresh: boolean } {
  if (!config.adminTokenGenerated) return { token: config.adminToken, fresh: false };
  const file = join(config.dataDir, ADMIN_TOKEN_FILE);
  if (existsSync(file)) {
    const kept = readFileSync(file, 'utf8').trim();
    if (kept) return { token: kept, fresh: false };
  }
  writeFileSync(file, `${config.adminToken}\n`, { mode: 0o600 });
  return { token: config.adminToken, fresh: true };
}

export async function startServer(config: Config, log: (line: string) => void = console.log): Promise<RunningServer> {
  // Everything Slipway writes from here on (database, keys, logs, artifacts) is its own user's alone.
  restrictUmask();
  // Before anything is spawned: nothing Slipway starts, repository code least of all, gets them.
  closeInheritedDescriptors();
  const slipway = await createSlipway(config, { log: (line) => log(`[slipway] ${line}`) });
  const { token, fresh } = adminTokenFor(config);
  let app: FastifyInstance | undefined;
  try {
    // Environments whose nodes kept running while Slipway was stopped are taken over first.
    await slipway.adoptEnvironments();
    const built: FastifyInstance = await buildServer(slipway, { adminToken: token, ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}) });
    app = built;
    await built.listen({ host: config.host, port: config.port });
  } catch (error) {
    await app?.close().catch(() => undefined);
    await slipway.close();
    throw error;
  }
  const running: FastifyInstance = app;
  const address = running.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  log(`Slipway listening on ${url} (data: ${config.dataDir}, database: ${config.databaseUrl ? 'PostgreSQL' : 'SQLite'}, engine ${slipway.engine.status})`);
  if (fresh) log(`Admin token (shown once, kept in ${join(config.dataDir, ADMIN_TOKEN_FILE)}): ${token}`);
  // Webhook events name absolute URLs: the public one when configured, else this server's own.
  slipway.startWebhooks({ baseUrl: config.publicUrl ?? url });
  // ON_COMMIT pipelines: the push hook starts them at once; this poll is the fallback.
  const stopWatcher = startCommitWatcher(slipway, { intervalMs: 60_000, log: (line) => log(`[slipway] ${line}`) });
  return {
    config, slipway, app: running, url, adminToken: token,
    async close() {
      await stopWatcher();
      await running.close();
      await slipway.close();
    },
  };
}

export function closeOnSignals(server: RunningServer): void {
  let closing = false;
  const stop = (signal: string) => {
    if (closing) return;
    closing = true;
    console.log(`${signal}: shutting down (environments keep running; they are adopted on the next start)`);
    const force = setTimeout(() => process.exit(1), 30_000);
    force.unref();
    server.close().then(() => process.exit(0), (error: unknown) => {
      console.error(error);
      process.exit(1);
    });
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}
