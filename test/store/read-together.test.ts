// Reads made at once go out as one statement on PostgreSQL (store/read-together.ts): each
// read's rows come back as the read alone returns them, in its order, secrets opened; held
// for a statement of the caller's, they are answered by its rows, or fail with it.
import { CompiledQuery } from 'kysely';
import { describe, expect, it } from 'vitest';
import { runPrepared } from '../../src/store/db.ts';
import { pipelineQuery } from '../../src/store/pipelines.ts';
import { pipelineRepositoryQuery, programQuery } from '../../src/store/programs.ts';
import { holdReads, jsonColumns, readAll } from '../../src/store/read-together.ts';
import { patchVariables, toVariable, variablesQuery } from '../../src/store/variables.ts';
import { seedPipeline } from '../support/seed.ts';
import { testStore } from '../support/slipway.ts';

describe('reads together (PostgreSQL)', () => {
  it('return what each read returns alone, in its order, and an empty read stays empty; held, what the caller\'s statement answers', async () => {
    const store = await testStore('postgres');
    const s = await store.open({ runEngine: false });
    try {
      const p = await seedPipeline(s);
      const { db, secrets } = s.rt;
      const k = db.kysely;
      await patchVariables(k, secrets, 'pipeline', p.id, [
        { name: 'ZED', value: 'last', type: 'string' },
        { name: 'ALPHA', value: 'first', type: 'string' },
        { name: 'TOKEN', value: 's3cret', type: 'secretString' },
      ]);
      const queries = [
        programQuery(k, p.programId).compile(), pipelineQuery(k, p.id).compile(), variablesQuery(k, 'pipeline', p.id).compile(),
        pipelineRepositoryQuery(k, p.programId, p.id).compile(), programQuery(k, '999999').compile(),
        variablesQuery(k, 'environment', '999999').compile(),
      ];
      const alone = await Promise.all(queries.map(async (q) => (await k.executeQuery(q)).rows));
      const together = await readAll(db, queries);
      expect(together).toEqual(alone);
      expect(together.map((rows) => rows.length)).toEqual([1, 1, 3, 1, 0, 0]);
      const variables = together[2]!.map((r) => toVariable(secrets, r as Parameters<typeof toVariable>[1]));
      expect(variables.map((v) => v.name)).toEqual(['ALPHA', 'TOKEN', 'ZED']);
      expect(variables.find((v) => v.name === 'TOKEN')!.value).toBe('s3cret');

      // Held: the caller's statement carries the queries as its columns, and answers them.
      const held = holdReads(queries, (rows) => rows.map((r) => r.length));
      const parameters: unknown[] = [];
      const columns = jsonColumns(held.queries, parameters);
      const [row] = await runPrepared<Record<string, unknown[]>>(db, CompiledQuery.raw(`SELECT 1 AS one, ${columns.join(', ')}`, parameters));
      held.settle(held.queries.map((_, i) => row![`r${i}`]!));
      expect(await held.result).toEqual([1, 1, 3, 1, 0, 0]);
      // A statement that failed fails its held reads.
      const failed = holdReads(queries, () => 'made');
      failed.fail(new Error('statement failed'));
      await expect(failed.result).rejects.toThrow('statement failed');
    } finally {
      await s.close();
      store.cleanup();
    }
  });
});
