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

/** Gathers the reads of one turn of the event loop and sends them together. */
class Gathering implements DatabaseConnection {
  private pending: Pending[] = [];

  constructor(private readonly db: Db) {}

  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    if (!SelectQueryNode.is(query.query)) return Promise.reject(new Error('readTogether: reads only'));
    return new Promise<QueryResult<R>>((resolve, reject) => {
      this.pending.push({ query, resolve: resolve as Pending['resolve'], reject });
      // Kysely reaches here after a few promise hops per query: the turn's end has them all.
      if (this.pending.length === 1) setImmediate(() => void this.flush());
    });
  }

  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('readTogether: no streaming');
  }

  private async flush(): Promise<void> {
    const batch = this.pending.splice(0);
    if (batch.length === 1) {
      const [one] = batch;
      return void this.db.kysely.executeQuery(one!.query).then(one!.resolve, one!.reject);
    }
    const parameters: unknown[] = [];
    const columns = batch.map(({ query }, i) => {
      const offset = parameters.length;
      parameters.push(...query.parameters);
      const text = query.sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`);
      return `(SELECT coalesce(json_agg(t), '[]'::json) FROM (${text}) t) AS r${i}`;
    });
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

const gatherings = new WeakMap<Db, Kysely<Database>>();

/** A Kysely for reads that go out together on PostgreSQL; the database's own on SQLite. */
export function readTogether(db: Db): Kysely<Database> {
  if (db.dialect !== 'postgres') return db.kysely;
  let k = gatherings.get(db);
  if (!k) {
    const connection = new Gathering(db);
    k = new Kysely<Database>({
      dialect: {
        createAdapter: () => new PostgresAdapter(),
        createDriver: () => new GatheringDriver(connection),
        createIntrospector: (d) => new PostgresIntrospector(d),
        createQueryCompiler: () => new PostgresQueryCompiler(),
      },
    });
    gatherings.set(db, k);
  }
  return k;
}
