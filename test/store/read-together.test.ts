// Reads made at once go out as one statement on PostgreSQL (store/read-together.ts): each
// read's rows come back as the read alone returns them, in its order, secrets opened. Reads
// held for a statement of the caller's (holdReads) answer the same, also when they were sent
// as remembered from an earlier read and the read made different ones this time.
import { CompiledQuery } from 'kysely';
import { describe, expect, it } from 'vitest';
import { runPrepared } from '../../src/store/db.ts';
import { getPipeline } from '../../src/store/pipelines.ts';
import { getPipelineRepository, getProgram } from '../../src/store/programs.ts';
import { holdReads, jsonColumns, readTogether, type HeldReads } from '../../src/store/read-together.ts';
import { listVariables, patchVariables } from '../../src/store/variables.ts';
import { seedPipeline } from '../support/seed.ts';
import { testStore } from '../support/slipway.ts';

describe('reads together (PostgreSQL)', () => {
  it('return what each read returns alone, in its order, and an empty read stays empty', async () => {
    const store = await testStore('postgres');
    const s = await store.open({ runEngine: false });
    try {
      const p = await seedPipeline(s);
      const { db, secrets } = s.rt;
      await patchVariables(db.kysely, secrets, 'pipeline', p.id, [
        { name: 'ZED', value: 'last', type: 'string' },
        { name: 'ALPHA', value: 'first', type: 'string' },
        { name: 'TOKEN', value: 's3cret', type: 'secretString' },
      ]);
      const all = (k: typeof db.kysely) => Promise.all([
        getProgram(k, p.programId), getPipeline(k, p.id), listVariables(k, secrets, 'pipeline', p.id),
        getPipelineRepository(k, p.programId, p.id), getProgram(k, '999999'), listVariables(k, secrets, 'environment', '999999'),
      ]);
      const alone = await all(db.kysely);
      const together = await all(readTogether(db));
      expect(together).toEqual(alone);
      expect(together[2]!.map((v) => v.name)).toEqual(['ALPHA', 'TOKEN', 'ZED']);
      expect(together[2]!.find((v) => v.name === 'TOKEN')!.value).toBe('s3cret');
      expect(together[4]).toBeUndefined();
      expect(together[5]).toEqual([]);
    } finally {
      await s.close();
      store.cleanup();
    }
  });

  it('held for a statement of the caller\'s, answer as alone; made again under a key, the remembered queries go out at once', async () => {
    const store = await testStore('postgres');
    const s = await store.open({ runEngine: false });
    try {
      const [p, q] = [await seedPipeline(s), await seedPipeline(s)];
      const { db, secrets } = s.rt;
      await patchVariables(db.kysely, secrets, 'pipeline', q.id, [{ name: 'TOKEN', value: 'q-secret', type: 'secretString' }]);
      const read = (pipeline: typeof p) => (k: typeof db.kysely) => Promise.all([
        getProgram(k, pipeline.programId), getPipeline(k, pipeline.id), listVariables(k, secrets, 'pipeline', pipeline.id),
      ]);
      // The caller's statement: the held queries' rows as its columns.
      const answer = async <T>(held: HeldReads<T>) => {
        const parameters: unknown[] = [];
        const columns = jsonColumns(held.queries, parameters);
        const [row] = await runPrepared<Record<string, unknown[]>>(db, CompiledQuery.raw(`SELECT ${columns.join(', ')}`, parameters));
        held.settle(held.queries.map((_, i) => row![`r${i}`]!));
        return held.result;
      };
      const [aloneP, aloneQ] = [await read(p)(db.kysely), await read(q)(db.kysely)];
      const first = await holdReads(db, read(p), 'key');
      expect(await answer(first)).toEqual(aloneP);
      const again = await holdReads(db, read(p), 'key');
      expect(again.queries).toBe(first.queries);
      expect(await answer(again)).toEqual(aloneP);
      // Sent as remembered (p's), while the read asks for q's: what differs goes out by itself.
      const other = await holdReads(db, read(q), 'key');
      expect(other.queries).toBe(first.queries);
      expect(await answer(other)).toEqual(aloneQ);
      // q's queries are remembered now.
      const next = await holdReads(db, read(q), 'key');
      expect(next.queries).not.toBe(first.queries);
      expect(await answer(next)).toEqual(aloneQ);
      // A statement that failed fails its held reads.
      const failed = await holdReads(db, read(q), 'key');
      failed.fail(new Error('statement failed'));
      await expect(failed.result).rejects.toThrow('statement failed');
    } finally {
      await s.close();
      store.cleanup();
    }
  });
});
