// Statements compiled once, not on every run. PostgreSQL: a statement this process runs again
// and again becomes a prepared statement on each pooled connection, parsed and planned once
// there (then PostgreSQL keeps a generic plan when it is as good). Kysely sends every statement
// unnamed: an execution's start and reads (the execution and its steps, the journal's facts)
// were parsed and planned each time, and planning alone took longer than running them. pgJDBC
// does the same after five runs of a statement (prepareThreshold).
import { createHash } from 'node:crypto';
import type SQLite from 'better-sqlite3';
import type { SqliteDatabase } from 'kysely';
import type pg from 'pg';

/** Runs of one text before it is prepared: one-off statements (migrations, rare reads) never are. */
const THRESHOLD = 5;
/** Distinct prepared texts, at most: each connection may hold them all. Later texts run unnamed. */
const MAX_PREPARED = 500;

const runs = new Map<string, number>();
const names = new Map<string, string>();

/** The prepared name of `text` if it is run often enough to have one. */
function nameOf(text: string): string | undefined {
  const name = names.get(text);
  if (name || names.size >= MAX_PREPARED) return name;
  const n = (runs.get(text) ?? 0) + 1;
  if (n < THRESHOLD) {
    // Counting is bounded too: a flood of distinct texts only restarts the counts.
    if (runs.size >= 2_000) runs.clear();
    runs.set(text, n);
    return undefined;
  }
  runs.delete(text);
  const named = `slipway_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
  names.set(text, named);
  return named;
}

/**
 * A prepared statement whose tables changed columns since it was prepared (a migration by a
 * newer Slipway) fails for good on its connection ("cached plan must not change result type").
 * That connection then prepares its statements anew, under new names; the failed transaction is
 * run again (db.ts isRetryable). Told by code and routine, not by the (translated) message.
 */
export function isStalePlan(error: unknown): boolean {
  const { code, routine } = (error ?? {}) as { code?: unknown; routine?: unknown };
  return code === '0A000' && routine === 'RevalidateCachedQuery';
}

/** Makes `client` (a new pooled connection) run its repeated statements as prepared ones. */
export function prepareRepeated(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  let generation = 0;
  // Kysely and the pool call query(text, values[, callback]); configs and cursors pass as they are.
  const prepared = (text: unknown, values?: unknown, ...rest: unknown[]): unknown => {
    const name = typeof text === 'string' && Array.isArray(values) && values.length > 0 ? nameOf(text) : undefined;
    if (!name) return query(text, values, ...rest);
    const result = query({ name: generation ? `${name}_${generation}` : name, text, values }, ...rest);
    if (result instanceof Promise) {
      result.catch((e: unknown) => { if (isStalePlan(e)) generation++; });
    }
    return result;
  };
  Object.assign(client, { query: prepared });
}

/**
 * SQLite: Kysely prepares every statement anew on every run (parsed and planned by SQLite each
 * time); better-sqlite3's statements are made to be kept and run again, and SQLite prepares a
 * kept one again by itself when the schema changed. Kysely never streams here (a statement
 * iterating could not run twice at once).
 */
export function keepingStatements(db: SQLite.Database): SqliteDatabase {
  const kept = new Map<string, SQLite.Statement>();
  return {
    close: () => db.close(),
    prepare(text) {
      let statement = kept.get(text);
      if (!statement) {
        if (kept.size >= MAX_PREPARED) kept.clear();
        kept.set(text, statement = db.prepare(text));
      }
      return statement;
    },
  };
}
