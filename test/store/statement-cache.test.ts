// PostgreSQL: a statement run again and again is prepared on its connection (store/statement-
// cache.ts), one-off statements are not, and a prepared statement whose table changed columns
// under it (a newer Slipway's migration) costs one retried transaction, not a broken connection.
import { sql } from 'kysely';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { openDb, tx } from '../../src/store/db.ts';
import { createDatabase } from '../support/postgres.ts';

describe('statement cache (PostgreSQL)', () => {
  it('prepares a repeated statement once per connection, not a one-off; a stale one is prepared again', async () => {
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
});
