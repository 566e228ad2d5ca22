// Statements compiled once (store/statement-cache.ts). PostgreSQL: a statement run again and
// again is prepared on its connection, one-off statements are not, and a prepared statement
// whose table changed columns under it (a newer Slipway's migration) costs one retried
// transaction, not a broken connection. SQLite: a statement is compiled once and kept, and a
// kept one follows a change of its table.
import SQLite from 'better-sqlite3';
import { Kysely, sql, SqliteDialect } from 'kysely';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { openDb, tx } from '../../src/store/db.ts';
import { keepingStatements } from '../../src/store/statement-cache.ts';
import { createDatabase } from '../support/postgres.ts';

describe('statement cache', () => {
  it('PostgreSQL: prepares a repeated statement once per connection, not a one-off; a stale one is prepared again', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'slipway-statements-'));
    const db = openDb({ dataDir, databaseUrl: await createDatabase(inject('pgAdminUrl')) });
    try {
      const k = db.kysely;
      await sql`CREATE TABLE things (id bigint PRIMARY KEY, name text NOT NULL)`.execute(k);
      await sql`INSERT INTO things VALUES (1, 'one'), (2, 'two')`.execute(k);
      // One transaction: one connection, whose prepared statements it can list.
      const prepared = await tx(db, async (trx) => {
        for (let i = 0; i < 8; i++) await sql`SELECT * FROM things WHERE id = ${1 + (i % 2)}`.execute(trx);
        await sql`SELECT name FROM things WHERE id = ${2} AND name <> ${'once'}`.execute(trx);
        const { rows } = await sql<{ statement: string }>`SELECT statement FROM pg_prepared_statements WHERE statement LIKE ${'%things%'}`.execute(trx);
        return rows.map((r) => r.statement);
      });
      expect(prepared).toEqual(['SELECT * FROM things WHERE id = $1']);

      // Another process's migration adds a column: the prepared SELECT * can no longer run as it
      // was planned. The transaction that meets it runs again, and sees the column.
      await sql`ALTER TABLE things ADD COLUMN size int NOT NULL DEFAULT 7`.execute(k);
      const { rows } = await tx(db, (trx) => sql<Record<string, unknown>>`SELECT * FROM things WHERE id = ${1}`.execute(trx));
      expect(rows).toEqual([{ id: 1, name: 'one', size: 7 }]);
      const again = await sql<Record<string, unknown>>`SELECT * FROM things WHERE id = ${2}`.execute(k);
      expect(again.rows).toEqual([{ id: 2, name: 'two', size: 7 }]);
    } finally {
      await db.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('SQLite: compiles a statement once and keeps it; a kept one sees a column added since', async () => {
    const sqlite = new SQLite(':memory:');
    const compiled: string[] = [];
    const counting = Object.assign(Object.create(sqlite) as SQLite.Database, {
      prepare: (text: string) => (compiled.push(text), sqlite.prepare(text)),
      close: () => sqlite.close(),
    });
    const k = new Kysely<Record<string, never>>({ dialect: new SqliteDialect({ database: keepingStatements(counting) }) });
    try {
      await sql`CREATE TABLE things (id integer PRIMARY KEY, name text NOT NULL)`.execute(k);
      await sql`INSERT INTO things VALUES (1, 'one'), (2, 'two')`.execute(k);
      const read = async (id: number) => (await sql<Record<string, unknown>>`SELECT * FROM things WHERE id = ${id}`.execute(k)).rows;
      expect([await read(1), await read(2), await read(1)]).toEqual([[{ id: 1, name: 'one' }], [{ id: 2, name: 'two' }], [{ id: 1, name: 'one' }]]);
      expect(compiled.filter((t) => t.startsWith('SELECT'))).toHaveLength(1);
      await sql`ALTER TABLE things ADD COLUMN size integer NOT NULL DEFAULT 7`.execute(k);
      expect(await read(2)).toEqual([{ id: 2, name: 'two', size: 7 }]);
    } finally {
      await k.destroy();
    }
  });
});
