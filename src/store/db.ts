// Opens the database (SQLite by default, PostgreSQL with a postgres:// URL), applies the
// numbered migrations under a lock so two processes starting at once are safe, and offers
// one transaction helper that takes the write lock up front on both databases.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql, type CompiledQuery } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.ts';
import { isStalePlan, keepingStatements, prepareRepeated } from './statement-cache.ts';
import * as m001 from './migrations/001_initial.ts';
import * as m002 from './migrations/002_events.ts';
import * as m003 from './migrations/003_claims.ts';

export type { Dialect } from './dialect.ts';
import type { Dialect } from './dialect.ts';

export interface Db {
  kysely: Kysely<Database>;
  dialect: Dialect;
  /** For PostgreSQL: the connection settings, so LISTEN can open its own client. */
  postgresUrl?: string;
  /** For PostgreSQL: the pool under `kysely`, for prepared statements (runPrepared). */
  pool?: pg.Pool;
  close(): Promise<void>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations run on an untyped schema
type Migration = { up(db: Kysely<any>, dialect: Dialect): Promise<void> };
const MIGRATIONS: [number, Migration][] = [[1, m001], [2, m002], [3, m003]];

// bigint columns hold epoch milliseconds and ids: well inside Number's exact range.
pg.types.setTypeParser(20, (v) => Number(v));

export function openDb(options: { dataDir: string; databaseUrl?: string }): Db {
  if (options.databaseUrl) {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 10 });
    // A connection that PostgreSQL closes (a restart) emits 'error': on the pool when idle, on
    // the client when checked out between two statements of a transaction. Unheard, either
    // ends the process. The statement in flight fails instead (isConnectionLost), the pool
    // drops the broken client on release, and the next query connects anew.
    pool.on('error', () => undefined);
    pool.on('connect', (client) => {
      client.on('error', () => undefined);
      prepareRepeated(client);
    });
    const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return { kysely, dialect: 'postgres', postgresUrl: options.databaseUrl, pool, close: () => kysely.destroy() };
  }
  mkdirSync(options.dataDir, { recursive: true });
  const sqlite = new SQLite(join(options.dataDir, 'slipway.db'));
  sqlite.pragma('journal_mode = WAL');
  // NORMAL in WAL mode survives a process crash (kill -9); only an OS crash can lose the last commit.
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 10000');
  sqlite.pragma('foreign_keys = ON');
  const kysely = new Kysely<Database>({ dialect: new SqliteDialect({ database: keepingStatements(sqlite) }) });
  return { kysely, dialect: 'sqlite', close: () => kysely.destroy() };
}

/**
 * Adds `value` to a hot statement's parameters and returns its placeholder ($n): the statement's
 * text is written as a plain string around it (kysely's builders, made and compiled again for
 * every transition, cost more than the rest of its work in this process).
 */
export type Param = (value: unknown) => string;
export const paramsInto = (parameters: unknown[]): Param => (value) => `$${parameters.push(value)}`;

/**
 * PostgreSQL: runs a hot statement (one per transition) straight on the pool, outside a
 * transaction and without Kysely; prepared on each connection like every repeated statement
 * (statement-cache.ts). The statement must carry its values as parameters.
 */
export async function runPrepared<R>(db: Db, query: CompiledQuery): Promise<R[]> {
  if (!db.pool) throw new Error('prepared statements are for PostgreSQL');
  const { rows } = await db.pool.query(query.sql, [...query.parameters]);
  return rows as R[];
}

/** PostgreSQL's connection-exception (08) and shutdown (57P0x) classes and socket errors. */
const CONNECTION_CODES = /^(08...|57P0[1-3]|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT)$/;

/** True when `error` says the database connection went away (a restart), not that a statement was wrong. */
export function isConnectionLost(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return (typeof code === 'string' && CONNECTION_CODES.test(code))
    || (typeof message === 'string' && /Connection terminated|not queryable|terminating connection/i.test(message));
}

/**
 * PostgreSQL's deadlock and serialization failures, and a prepared statement gone stale
 * (statement-cache.ts): the transaction can simply run again.
 */
const RETRYABLE = new Set(['40P01', '40001']);
export const isRetryable = (error: unknown): boolean =>
  RETRYABLE.has((error as { code?: string } | undefined)?.code ?? '') || isStalePlan(error);

/**
 * Runs `fn` in a transaction that holds the write lock from its first statement
 * (SQLite: BEGIN IMMEDIATE, so two processes never deadlock upgrading a read lock). A
 * transaction that PostgreSQL aborts as a deadlock victim is run again (fn must only touch
 * the database; effects belong after the commit).
 */
export async function tx<T>(db: Db, fn: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await once(db, fn);
    } catch (error) {
      if (attempt >= 5 || !isRetryable(error)) throw error;
      await new Promise((r) => setTimeout(r, Math.random() * 10 * attempt));
    }
  }
}

async function once<T>(db: Db, fn: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  return db.kysely.connection().execute(async (conn) => {
    await sql.raw(db.dialect === 'sqlite' ? 'BEGIN IMMEDIATE' : 'BEGIN').execute(conn);
    try {
      const result = await fn(conn);
      await sql.raw('COMMIT').execute(conn);
      return result;
    } catch (error) {
      await sql.raw('ROLLBACK').execute(conn).catch(() => undefined);
      throw error;
    }
  });
}

/** Applies the migrations not yet applied; concurrent callers wait for each other. */
export async function migrate(db: Db): Promise<number[]> {
  return tx(db, async (trx) => {
    if (db.dialect === 'postgres') await sql`SELECT pg_advisory_xact_lock(7274929)`.execute(trx);
    await sql`CREATE TABLE IF NOT EXISTS slipway_migrations (version integer PRIMARY KEY, applied_at bigint NOT NULL)`.execute(trx);
    const rows = await sql<{ version: number }>`SELECT version FROM slipway_migrations`.execute(trx);
    const applied = new Set(rows.rows.map((r) => Number(r.version)));
    const done: number[] = [];
    for (const [version, migration] of MIGRATIONS) {
      if (applied.has(version)) continue;
      await migration.up(trx, db.dialect);
      await sql`INSERT INTO slipway_migrations (version, applied_at) VALUES (${version}, ${Date.now()})`.execute(trx);
      done.push(version);
    }
    return done;
  });
}
