// Reads made at once go out as one statement on PostgreSQL (store/read-together.ts): each
// read's rows come back as the read alone returns them, in its order, secrets opened.
import { describe, expect, it } from 'vitest';
import { getPipeline } from '../../src/store/pipelines.ts';
import { getPipelineRepository, getProgram } from '../../src/store/programs.ts';
import { readTogether } from '../../src/store/read-together.ts';
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
});
