// PostgreSQL: independent reads made in the same moment go out as one statement, one round
// trip (a step's context: its program, pipeline, repository and variables), by themselves
// (readAll) or inside a statement of the caller's (holdReads). Each read keeps its own query
// (the store's, compiled); the statement returns each one's rows as JSON, which holds the
// types these tables use (text, integers, epoch milliseconds). Reads only; SQLite reads
// in-process and needs none of this.
import { CompiledQuery } from 'kysely';
import { runPrepared, type Db } from './db.ts';

/**
 * Each query's rows as one JSON column (`r0`, `r1`, ...) of a SELECT list, its parameters
 * renumbered after those already in `parameters` (which it extends).
 */
export function jsonColumns(queries: readonly CompiledQuery[], parameters: unknown[]): string[] {
  return queries.map((query, i) => {
    const offset = parameters.length;
    parameters.push(...query.parameters);
    const text = query.sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`);
    return `(SELECT coalesce(json_agg(t), '[]'::json) FROM (${text}) t) AS r${i}`;
  });
}

/** Each query's rows, in order: on PostgreSQL in one statement, on SQLite one query after the other. */
export async function readAll(db: Db, queries: readonly CompiledQuery[]): Promise<unknown[][]> {
  if (db.dialect !== 'postgres' || queries.length === 1) {
    return Promise.all(queries.map(async (query) => (await db.kysely.executeQuery(query)).rows));
  }
  const parameters: unknown[] = [];
  const columns = jsonColumns(queries, parameters);
  const [row] = await runPrepared<Record<string, unknown[]>>(db, CompiledQuery.raw(`SELECT ${columns.join(', ')}`, parameters));
  return queries.map((_, i) => row?.[`r${i}`] ?? []);
}

/** Reads whose queries go out inside another statement: their result once it answers. */
export interface HeldReads<T> {
  queries: readonly CompiledQuery[];
  /** Each query's rows, in order. */
  settle(rows: unknown[][]): void;
  fail(error: unknown): void;
  result: Promise<T>;
}

/** PostgreSQL: `queries` held for a statement of the caller's; `make` turns their rows into the result. */
export function holdReads<T>(queries: readonly CompiledQuery[], make: (rows: unknown[][]) => T): HeldReads<T> {
  let settle!: (rows: unknown[][]) => void;
  let fail!: (error: unknown) => void;
  const answered = new Promise<unknown[][]>((resolve, reject) => { settle = resolve; fail = reject; });
  const result = answered.then(make);
  result.catch(() => undefined); // its reader sees the error
  return { queries, settle, fail, result };
}
