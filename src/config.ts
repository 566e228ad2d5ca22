// Slipway's configuration: environment variables with defaults, validated once at start-up.
// A bad value stops start-up with a message that names the variable.
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import type { PushRegistry } from './artifacts/push.ts';
import { parseAllowedGitHosts } from './runner/repository-url.ts';

export interface Config {
  dataDir: string;
  /** undefined = the embedded SQLite file in the data directory. */
  databaseUrl?: string;
  port: number;
  host: string;
  /** SLIPWAY_PUBLIC_URL without a trailing slash; undefined = derived from the listen address. */
  publicUrl?: string;
  /** SLIPWAY_ALLOWED_GIT_HOSTS: hosts a repository URL may name although they are not public. */
  allowedGitHosts: string[];
  /** The bootstrap admin token; generated when unset (and then printed once). */
  adminToken: string;
  adminTokenGenerated: boolean;
  /** The key that seals secret variables, from SLIPWAY_SECRETS_KEY; unset = the key file. */
  secretsKey?: Buffer;
  /** Where the secrets key is kept (created 0600 on first start) when SLIPWAY_SECRETS_KEY is unset. */
  secretsKeyFile: string;
  /** Engine slots one program's steps may hold at once; unset = half the engine's slots. */
  programConcurrency?: number;
  /** PostgreSQL: engine processes of one host that claim at once, the others standing by; unset = cores less one. */
  activeEngines?: number;
  /** Bytes a step log may reach; what is written past it is dropped (the log says so). */
  maxLogBytes: number;
  /** SLIPWAY_REGISTRY…: a registry that buildImage pushes every image to; unset = Slipway's own only. */
  registry?: PushRegistry;
}

function pushRegistry(env: NodeJS.ProcessEnv, dataDir: string): PushRegistry | undefined {
  const location = env.SLIPWAY_REGISTRY?.trim();
  if (!location) return undefined;
  if (!/^[A-Za-z0-9.-]+(:\d{1,5})?(\/[a-z0-9._-]+)*$/.test(location)) {
    throw new ConfigError('SLIPWAY_REGISTRY', `expected host[:port][/path] of a registry, got "${location}"`);
  }
  const verify = env.SLIPWAY_REGISTRY_TLS_VERIFY?.trim() || 'true';
  if (verify !== 'true' && verify !== 'false') throw new ConfigError('SLIPWAY_REGISTRY_TLS_VERIFY', `expected true or false, got "${verify}"`);
  const authFile = env.SLIPWAY_REGISTRY_AUTH_FILE?.trim();
  return { location, tlsVerify: verify === 'true', ...(authFile ? { authFile: resolve(dataDir, authFile) } : {}) };
}

export const DEFAULT_MAX_LOG_BYTES = 50 * 1024 * 1024;

/** A 256-bit key written as 64 hex digits or base64 (what `openssl rand -base64 32` prints). */
export function parseSecretsKey(text: string, variable: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : /^[A-Za-z0-9+/_-]{43}=?$/.test(t) ? Buffer.from(t, 'base64') : undefined;
  if (key?.length !== 32) throw new ConfigError(variable, 'expected a 256-bit key: 64 hex digits or 44 base64 characters (e.g. `openssl rand -base64 32`)');
  return key;
}

function positiveInteger(env: NodeJS.ProcessEnv, variable: string): number | undefined {
  const text = env[variable]?.trim();
  if (!text) return undefined;
  if (!/^\d{1,15}$/.test(text) || Number(text) < 1) throw new ConfigError(variable, `expected a whole number ≥ 1, got "${text}"`);
  return Number(text);
}

export class ConfigError extends Error {
  constructor(readonly variable: string, message: string, options?: ErrorOptions) {
    super(`${variable}: ${message}`, options);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const dataDir = resolve(env.SLIPWAY_DATA?.trim() || './.slipway');

  const databaseUrl = env.SLIPWAY_DATABASE_URL?.trim() || undefined;
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\/.+/.test(databaseUrl)) {
    throw new ConfigError('SLIPWAY_DATABASE_URL', `expected postgres://user@host:port/db (or unset for SQLite), got "${databaseUrl}"`);
  }

  const portText = env.SLIPWAY_PORT?.trim() || '8080';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 0 || port > 65535) {
    throw new ConfigError('SLIPWAY_PORT', `expected a port number 0-65535, got "${portText}"`);
  }

  const host = env.SLIPWAY_HOST?.trim() || '127.0.0.1';

  const publicText = env.SLIPWAY_PUBLIC_URL?.trim() || undefined;
  let publicUrl: string | undefined;
  if (publicText !== undefined) {
    let parsed: URL | undefined;
    try { parsed = new URL(publicText); } catch { /* reported below */ }
    if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.search || parsed.hash || parsed.username || parsed.password) {
      throw new ConfigError('SLIPWAY_PUBLIC_URL', `expected http(s)://host[:port][/path] without query or credentials, got "${publicText}"`);
    }
    publicUrl = `${parsed.origin}${parsed.pathname}`.replace(/\/+$/, '');
  }

  let allowedGitHosts: string[];
  try {
    allowedGitHosts = parseAllowedGitHosts(env.SLIPWAY_ALLOWED_GIT_HOSTS);
  } catch (error) {
    throw new ConfigError('SLIPWAY_ALLOWED_GIT_HOSTS', `expected comma-separated host names: ${(error as Error).message}`, { cause: error });
  }

  // Read where test bundles run (steps/testing/isolation.ts); checked here to stop at start-up.
  const isolation = env.SLIPWAY_TEST_ISOLATION?.trim();
  if (isolation && !['auto', 'container', 'sandbox'].includes(isolation)) {
    throw new ConfigError('SLIPWAY_TEST_ISOLATION', `expected auto, container or sandbox, got "${isolation}"`);
  }

  const given = env.SLIPWAY_ADMIN_TOKEN?.trim();
  if (given !== undefined && given !== '' && given.length < 16) {
    throw new ConfigError('SLIPWAY_ADMIN_TOKEN', 'expected at least 16 characters');
  }
  const adminToken = given || `slw_${randomBytes(24).toString('base64url')}`;
  const keyText = env.SLIPWAY_SECRETS_KEY?.trim();
  const secretsKey = keyText ? parseSecretsKey(keyText, 'SLIPWAY_SECRETS_KEY') : undefined;
  const secretsKeyFile = resolve(dataDir, env.SLIPWAY_SECRETS_KEY_FILE?.trim() || 'secrets.key');
  const programConcurrency = positiveInteger(env, 'SLIPWAY_PROGRAM_CONCURRENCY');
  const activeEngines = positiveInteger(env, 'SLIPWAY_ACTIVE_ENGINES');
  const maxLogBytes = positiveInteger(env, 'SLIPWAY_MAX_LOG_BYTES') ?? DEFAULT_MAX_LOG_BYTES;
  const registry = pushRegistry(env, dataDir);
  return {
    dataDir, databaseUrl, port, host, ...(publicUrl ? { publicUrl } : {}), allowedGitHosts, adminToken, adminTokenGenerated: !given,
    ...(secretsKey ? { secretsKey } : {}), secretsKeyFile,
    ...(programConcurrency ? { programConcurrency } : {}), ...(activeEngines ? { activeEngines } : {}), maxLogBytes, ...(registry ? { registry } : {}),
  };
}
