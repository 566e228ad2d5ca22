// The HTTP API: Cloud Manager-compatible HAL routes plus Slipway's extras, behind bearer-token
// auth, with every error as application/problem+json.
import type { FastifyInstance } from 'fastify';
import Fastify from 'fastify';
import type { Slipway } from '../app.ts';
import { ensureUser, setBootstrapToken } from '../store/users.ts';
import { installAuth } from './auth.ts';
import { listenUrl, type ApiDeps } from './deps.ts';
import { frameworkProblem, installErrorHandlers } from './problem.ts';
import { installRequestId, requestIdOf } from './request-id.ts';
import { aemOnlyRoutes } from './routes/aem-only.ts';
import { environmentLogRoutes } from './routes/environment-logs.ts';
import { environmentRoutes } from './routes/environments.ts';
import { eventJournalRoutes } from './routes/events-journal.ts';
import { eventRoutes } from './routes/events-sse.ts';
import { programEventRoutes } from './routes/program-events.ts';
import { executionRoutes } from './routes/executions.ts';
import { hookRoutes } from './routes/hooks.ts';
import { logRoutes } from './routes/logs.ts';
import { collectRoutes, openApiRoutes } from './routes/openapi.ts';
import { pipelineRoutes } from './routes/pipelines.ts';
import { programRoutes } from './routes/programs.ts';
import { registryRoutes } from './routes/registry.ts';
import { repositoryRoutes } from './routes/repositories.ts';
import { signingKeyRoutes } from './routes/signing-key.ts';
import { stepRoutes } from './routes/steps.ts';
import { tokenRoutes } from './routes/tokens.ts';
import { variableRoutes } from './routes/variables.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { signingKey, UrlSigner } from './signing.ts';
import { ViewCache } from './view-cache.ts';
import { webPlugin } from '../web/plugin.ts';
import { opened } from '../live-instances.ts';

export const ADMIN_USER = 'admin';
export const BODY_LIMIT = 1024 * 1024;

/**
 * Bounds on connections, so that slow or idle clients cannot hold the server: a request must
 * send its headers within HEADERS_TIMEOUT_MS and be whole within REQUEST_TIMEOUT_MS; an idle
 * socket closes after CONNECTION_TIMEOUT_MS (keep-alive after KEEP_ALIVE_TIMEOUT_MS); at most
 * MAX_CONNECTIONS sockets at once. Long responses (log downloads, event streams) are not cut:
 * the timeouts bound a request's arrival and idle sockets, not a response being written.
 */
export const HTTP_LIMITS = {
  MAX_CONNECTIONS: 1024,
  HEADERS_TIMEOUT_MS: 10_000,
  REQUEST_TIMEOUT_MS: 30_000,
  CONNECTION_TIMEOUT_MS: 120_000,
  KEEP_ALIVE_TIMEOUT_MS: 5_000,
} as const;

export interface ServerOptions {
  adminToken: string;
  logSigningKey?: string;
  /** SLIPWAY_PUBLIC_URL; when unset, derived from the address the server listens on. */
  publicUrl?: string;
  /** Fastify's logger (off by default). */
  logger?: boolean;
}

/** JSON bodies: an empty body is no body (PUT …/execution may come with a content-type and nothing). */
function installJsonParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(/^application\/([\w.+-]+\+)?json$/, { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_req, text, done) => {
    const s = String(text);
    if (s.trim() === '') return done(null, undefined);
    try {
      // Prototype keys are dropped: a body never reaches an Object.assign with __proto__ in it.
      done(null, JSON.parse(s, (k, v: unknown) => (k === '__proto__' || k === 'constructor' ? undefined : v)));
    } catch (e) {
      const err = e as Error & { statusCode?: number };
      err.statusCode = 400;
      done(err, undefined);
    }
  });
}

export async function buildServer(slipway: Slipway, opts: ServerOptions): Promise<FastifyInstance> {
  const db = slipway.rt.db.kysely;
  const admin = await ensureUser(db, ADMIN_USER, true);
  await setBootstrapToken(db, admin.id, opts.adminToken);

  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: BODY_LIMIT,
    forceCloseConnections: true,
    genReqId: requestIdOf,
    frameworkErrors: frameworkProblem,
    connectionTimeout: HTTP_LIMITS.CONNECTION_TIMEOUT_MS,
    requestTimeout: HTTP_LIMITS.REQUEST_TIMEOUT_MS,
    keepAliveTimeout: HTTP_LIMITS.KEEP_ALIVE_TIMEOUT_MS,
    routerOptions: { maxParamLength: 200, ignoreTrailingSlash: true },
    ajv: { customOptions: { removeAdditional: true, useDefaults: true, coerceTypes: 'array', allErrors: false } },
  });
  app.server.maxConnections = HTTP_LIMITS.MAX_CONNECTIONS;
  app.server.headersTimeout = HTTP_LIMITS.HEADERS_TIMEOUT_MS;
  const jobs = new Set<Promise<unknown>>();
  const deps: ApiDeps = {
    slipway,
    signer: new UrlSigner(signingKey(slipway.config.dataDir, opts.logSigningKey)),
    views: new ViewCache(slipway.rt.bus),
    // Read on use: the listen address (port 0 = any) is known only once the server listens.
    get publicUrl() { return opts.publicUrl ?? listenUrl(app.server.address()) ?? 'http://127.0.0.1'; },
    track(job) {
      jobs.add(job);
      void job.finally(() => jobs.delete(job)).catch(() => undefined);
    },
  };
  const closed = opened('API server');
  // Steps of this process name images after the public URL: until SLIPWAY_PUBLIC_URL, this server's.
  slipway.setListenUrl(() => opts.publicUrl ?? listenUrl(app.server.address()));
  app.addHook('onClose', async () => {
    closed();
    deps.views.close();
    await Promise.allSettled([...jobs]);
  });

  installJsonParser(app);
  installErrorHandlers(app);
  installRequestId(app);
  installAuth(app, deps);
  const routes = collectRoutes(app);

  app.get('/api/health', { schema: { summary: 'Liveness (no auth); what this process\'s engine does' } },
    async () => ({ status: 'ok', engine: slipway.engine.status }));
  programRoutes(app, deps);
  repositoryRoutes(app, deps);
  environmentRoutes(app, deps);
  environmentLogRoutes(app, deps);
  variableRoutes(app, deps);
  pipelineRoutes(app, deps);
  executionRoutes(app, deps);
  stepRoutes(app, deps);
  logRoutes(app, deps);
  eventRoutes(app, deps);
  programEventRoutes(app, deps);
  eventJournalRoutes(app, deps);
  webhookRoutes(app, deps);
  hookRoutes(app, deps);
  aemOnlyRoutes(app);
  tokenRoutes(app, deps);
  registryRoutes(app, deps);
  signingKeyRoutes(app, deps, Boolean(opts.logSigningKey));
  openApiRoutes(app, routes);
  await app.register(webPlugin);
  await app.ready();
  return app;
}
