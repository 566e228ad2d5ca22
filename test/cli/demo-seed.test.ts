// The demo seed: a real bare git repository from the sample site, program, environments and
// pipeline; a second run adds nothing. (Provisioning goes to a recording driver here: the topology
// driver has its own tests; `npm start` provisions for real.)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createSlipway } from '../../src/app.ts';
import { DEMO_OPTIONS, seedDemo } from '../../src/demo/seed.ts';
import { listEnvironments } from '../../src/store/environments.ts';
import { listPipelines } from '../../src/store/pipelines.ts';
import { listPrograms } from '../../src/store/programs.ts';
import { RecordingDriver } from '../support/recording-driver.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'slipway-demo-seed-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('seedDemo', () => {
  it('creates the demo once and keeps it on the next run', async () => {
    const driver = new RecordingDriver();
    const slipway = await createSlipway({ dataDir }, { runEngine: false, driver });
    try {
      const first = await seedDemo(slipway);
      expect(first.created).toBe(true);
      expect(first.pipeline).toMatchObject({ name: 'Production', type: 'fullStack', branch: 'main' });
      expect(first.pipeline.options).toMatchObject(DEMO_OPTIONS);
      expect(first.environments.stage.status).toBe('ready');
      expect(driver.calls.filter((c) => c.method === 'provision')).toHaveLength(2);

      // A real bare repository with the sample site on main, without build outputs.
      const bare = fileURLToPath(first.repositoryUrl);
      const files = execFileSync('git', ['ls-tree', '-r', '--name-only', 'main'], { cwd: bare, encoding: 'utf8' }).split('\n');
      expect(files).toContain('slipway.yaml');
      expect(files).toContain('package.json');
      expect(files.some((f) => f.startsWith('node_modules/') || f.startsWith('dist/') || f.startsWith('coverage/'))).toBe(false);

      const second = await seedDemo(slipway);
      expect(second.created).toBe(false);
      expect(second.pipeline.id).toBe(first.pipeline.id);
      expect(driver.calls.filter((c) => c.method === 'provision')).toHaveLength(2); // nothing provisioned again
      const db = slipway.rt.db.kysely;
      expect((await listPrograms(db)).filter((p) => p.name === 'Demo')).toHaveLength(1);
      expect(await listEnvironments(db, first.programId)).toHaveLength(2);
      expect(await listPipelines(db, first.programId)).toHaveLength(1);
    } finally {
      await slipway.close();
    }
  });
});
