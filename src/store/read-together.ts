// PostgreSQL: independent reads made in the same moment go out as one statement, one round
// trip (a step's context: its program, pipeline, repository and variables). Each read keeps
// its own query (the store's functions, unchanged); the statement returns each one's rows as
// JSON, which holds the types these tables use (text, integers, epoch milliseconds). Reads
// only; SQLite reads in-process and needs none of this.
import {
  CompiledQuery, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, SelectQueryNode,
  type DatabaseConnection, type Driver, type QueryResult,
} from 'kysely';
import { runPrepared, type Db } from './db.ts';
import type { Database } from './schema.ts';

interface Pending {
  query: CompiledQuery;
  resolve(result: QueryResult<unknown>): void;
  reject(error: unknown): void;
}

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

/** Gathers the reads of one turn of the event loop and sends them together (or hands them over: gatherReads). */
class Gathering implements DatabaseConnection {
  private pending: Pending[] = [];
  /** Held for take() instead of sent. */
  private holding: boolean;

  constructor(private readonly db: Db, holding = false) {
    this.holding = holding;
  }

  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    if (!SelectQueryNode.is(query.query)) return Promise.reject(new Error('readTogether: reads only'));
    return new Promise<QueryResult<R>>((resolve, reject) => {
      this.pending.push({ query, resolve: resolve as Pending['resolve'], reject });
      // Kysely reaches here after a few promise hops per query: the turn's end has them all.
      if (this.pending.length === 1 && !this.holding) setImmediate(() => void this.flush());
    });
  }

  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('readTogether: no streaming');
  }

  /** The reads held so far; later ones go out by themselves. */
  take(): Pending[] {
    this.holding = false;
    return this.pending.splice(0);
  }

  private flush(): Promise<void> {
    return this.send(this.pending.splice(0));
  }

  /** Sends `batch` (reads made here), as one statement when there are several. */
  async send(batch: Pending[]): Promise<void> {
    if (batch.length === 1) {
      const [one] = batch;
      return void this.db.kysely.executeQuery(one!.query).then(one!.resolve, one!.reject);
    }
    const parameters: unknown[] = [];
    const columns = jsonColumns(batch.map((p) => p.query), parameters);
    try {
      const rows = await runPrepared<Record<string, unknown[]>>(this.db, CompiledQuery.raw(`SELECT ${columns.join(', ')}`, parameters));
      batch.forEach((p, i) => p.resolve({ rows: rows[0]![`r${i}`] ?? [] }));
    } catch (error) {
      for (const p of batch) p.reject(error);
    }
  }
}

class GatheringDriver implements Driver {
  constructor(private readonly connection: Gathering) {}
  async init(): Promise<void> {}
  async acquireConnection(): Promise<DatabaseConnection> {
    return this.connection;
  }
  async beginTransaction(): Promise<void> {
    throw new Error('readTogether: no transactions');
  }
  async commitTransaction(): Promise<void> {}
  async rollbackTransaction(): Promise<void> {}
  async releaseConnection(): Promise<void> {}
  async destroy(): Promise<void> {}
}

const kyselyOver = (connection: Gathering): Kysely<Database> => new Kysely<Database>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new GatheringDriver(connection),
    createIntrospector: (d) => new PostgresIntrospector(d),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});

const gatherings = new WeakMap<Db, Kysely<Database>>();

/** A Kysely for reads that go out together on PostgreSQL; the database's own on SQLite. */
export function readTogether(db: Db): Kysely<Database> {
  if (db.dialect !== 'postgres') return db.kysely;
  let k = gatherings.get(db);
  if (!k) gatherings.set(db, k = kyselyOver(new Gathering(db)));
  return k;
}

/** Reads made but not sent: their queries, to go out inside another statement, and their results once it answers. */
export interface HeldReads<T> {
  queries: CompiledQuery[];
  /** Each query's rows, in order. */
  settle(rows: unknown[][]): void;
  fail(error: unknown): void;
  result: Promise<T>;
}

/** One turn of the event loop: the I/O started in this one (a statement sent) has gone out. */
const nextTurn = () => new Promise<void>((r) => setImmediate(r));

/** The queries a keyed read made last time, per database (see holdReads). Bounded: the oldest go first. */
const lastQueries = new WeakMap<Db, Map<string, CompiledQuery[]>>();
const LAST_MAX = 1000;

function remember(db: Db, key: string, queries: CompiledQuery[]): void {
  let last = lastQueries.get(db);
  if (!last) lastQueries.set(db, last = new Map());
  last.delete(key);
  last.set(key, queries);
  if (last.size > LAST_MAX) last.delete(last.keys().next().value!);
}

const sameQuery = (a: CompiledQuery, b: CompiledQuery | undefined): boolean =>
  a.sql === b?.sql && a.parameters.length === b.parameters.length && a.parameters.every((v, i) => v === b.parameters[i]);

/**
 * PostgreSQL: runs `read`, holding its queries for a statement of the caller's (see HeldReads).
 * `key` names what the read's queries depend on: a read made before under the same key has
 * them known, so they are handed over at once and the read itself runs while the caller's
 * statement is under way (off the critical path), its queries checked against those sent (one
 * that differs goes out by itself, and is remembered for next time).
 */
export async function holdReads<T>(db: Db, read: (k: Kysely<Database>) => Promise<T>, key?: string): Promise<HeldReads<T>> {
  const known = key === undefined ? undefined : lastQueries.get(db)?.get(key);
  if (known) return readAlongside(db, read, key!, known);
  const gathering = new Gathering(db, true);
  const result = read(kyselyOver(gathering));
  result.catch(() => undefined); // its reader sees the error
  await nextTurn();
  const held = gathering.take();
  const queries = held.map((p) => p.query);
  if (key !== undefined) remember(db, key, queries);
  return {
    queries,
    settle: (rows) => held.forEach((p, i) => p.resolve({ rows: rows[i] ?? [] })),
    fail: (error) => held.forEach((p) => p.reject(error)),
    result,
  };
}

/** `read` run once `sent` (its queries as made last time) has gone out; answered from the statement's rows. */
function readAlongside<T>(db: Db, read: (k: Kysely<Database>) => Promise<T>, key: string, sent: CompiledQuery[]): HeldReads<T> {
  let settle!: (rows: unknown[][]) => void;
  let fail!: (error: unknown) => void;
  const answer = new Promise<unknown[][]>((resolve, reject) => { settle = resolve; fail = reject; });
  answer.catch(() => undefined); // the read's result carries the error
  const result = nextTurn().then(async () => {
    const gathering = new Gathering(db, true);
    const value = read(kyselyOver(gathering));
    value.catch(() => undefined);
    await nextTurn();
    const held = gathering.take();
    try {
      const rows = await answer;
      const apart: Pending[] = [];
      held.forEach((p, i) => (sameQuery(p.query, sent[i]) ? p.resolve({ rows: rows[i] ?? [] }) : apart.push(p)));
      if (apart.length > 0) {
        remember(db, key, held.map((p) => p.query));
        await gathering.send(apart);
      }
    } catch (error) {
      for (const p of held) p.reject(error);
    }
    return value;
  });
  result.catch(() => undefined); // its reader sees the error
  return { queries: sent, settle, fail, result };
}
