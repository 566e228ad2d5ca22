// Where the client commands find Slipway and their token: flags first, then SLIPWAY_URL /
// SLIPWAY_TOKEN, then the local server's defaults (its port and its admin-token file).
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ADMIN_TOKEN_FILE } from '../data-dir.ts';
import { CliError, EXIT } from './exit-codes.ts';

export interface ClientFlags {
  baseUrl?: string;
  token?: string;
}

export interface ClientSettings {
  baseUrl: string;
  token: string;
}

export function dataDirOf(env: NodeJS.ProcessEnv): string {
  return resolve(env.SLIPWAY_DATA?.trim() || './.slipway');
}

export function resolveClientSettings(flags: ClientFlags, env: NodeJS.ProcessEnv = process.env): ClientSettings {
  const baseUrl = flags.baseUrl ?? env.SLIPWAY_URL?.trim() ?? `http://127.0.0.1:${env.SLIPWAY_PORT?.trim() || '8080'}`;
  if (!/^https?:\/\/[^/]+/.test(baseUrl)) {
    throw new CliError(`base URL must be http(s)://host[:port], got "${baseUrl}" (--base-url / SLIPWAY_URL)`, EXIT.configuration);
  }
  let token = flags.token ?? env.SLIPWAY_TOKEN?.trim();
  if (!token) {
    const file = join(dataDirOf(env), ADMIN_TOKEN_FILE);
    if (existsSync(file)) token = readFileSync(file, 'utf8').trim();
  }
  if (!token) {
    throw new CliError(
      `no API token: pass --token, set SLIPWAY_TOKEN, or run next to a local Slipway (${join(dataDirOf(env), ADMIN_TOKEN_FILE)})`,
      EXIT.configuration,
    );
  }
  return { baseUrl: baseUrl.replace(/\/+$/, ''), token };
}
