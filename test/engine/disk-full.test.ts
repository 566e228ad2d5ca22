// The data directory's disk fills up during a build (a real 8 MiB tmpfs, mounted as root): the
// step fails with a reason that says so, the SQLite database and the artifact store stay sound,
// the server keeps answering, and once space is freed the next execution succeeds.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { buildServer } from '../../src/api/server.ts';
import { createSlipway } from '../../src/app.ts';
import { isExecutionTerminal } from '../../src/domain/transitions.ts';
import { startExecution } from '../../src/engine/commands.ts';
import { getExecution } from '../../src/store/executions.ts';
import { testHandlers } from '../support/engine-handlers.ts';
import { seedPipeline } from '../support/seed.ts';
import { eventually } from '../support/slipway.ts';
import { ARTIFACT_TYPES } from '../../src/artifacts/artifact-types.ts';

const TOKEN = 'disk-full-admin-token-0123456789';
const MiB = 1024 * 1024;

describe('the data directory runs out of space', () => {
  it.skipIf(process.getuid?.() !== 0)('the build fails with "disk full", nothing is corrupt, the server answers, and the next execution succeeds', async () => {
    const base = mkdtempSync(join(tmpdir(), 'slipway-disk-full-'));
    const dataDir = join(base, 'data');
    mkdirSync(dataDir);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m,mode=0700', 'tmpfs', dataDir]);
    try {
      const handlers = testHandlers({
        build: async (ctx) => {
          ctx.log.line('[test] writing the build output');
          const blob = await ctx.artifacts.putBytes(randomBytes(3 * MiB));
          await ctx.recordArtifact({ digest: blob.digest, type: ARTIFACT_TYPES.BUILD_OUTPUT, name: 'site.zip', size: blob.size });
          return { outcome: 'finished' };
        },
      });
      const slipway = await createSlipway({ dataDir }, { handlers });
      const app = await buildServer(slipway, { adminToken: TOKEN });
      const pipeline = await seedPipeline(slipway, { options: { approval: false } });
      const ended = async (id: string) => {
        const e = await getExecution(slipway.rt.db.kysely, id);
        return e && isExecutionTerminal(e.status) ? e : undefined;
      };

      // Leave about 2 MiB: the 3 MiB build output does not fit, the database's writes do.
      const filler = join(dataDir, 'filler');
      const free = Number(execFileSync('df', ['--output=avail', '-B1', dataDir]).toString().split('\n')[1]);
      writeFileSync(filler, Buffer.alloc(Math.max(0, free - 2 * MiB)));
      const full = await startExecution(slipway.rt, pipeline, { user: 'disk-test' });
      const failed = await eventually(() => ended(full.id), 60_000);
      const build = failed.steps.find((s) => s.action === 'build')!;
      expect(['ERROR', 'FAILED']).toContain(build.status);
      expect(build.reason).toMatch(/^disk full: no space left for Slipway's data directory/);
      expect(build.reason).toContain('ENOSPC');
      expect(failed.status).not.toBe('FINISHED');

      // The server answers, with the failure in the API.
      expect((await app.inject({ url: '/api/health' })).statusCode).toBe(200);
      const viaApi = await app.inject({
        url: `/api/program/${pipeline.programId}/pipeline/${pipeline.id}/execution/${full.id}`,
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(viaApi.statusCode).toBe(200);

      // Nothing is corrupt: SQLite checks out, every blob holds what its name says, no temp file is left.
      const check = await sql<{ integrity_check: string }>`PRAGMA integrity_check`.execute(slipway.rt.db.kysely);
      expect(check.rows.map((r) => r.integrity_check)).toEqual(['ok']);
      const blobs = () => readdirSync(slipway.artifacts.blobDir, { withFileTypes: true }).filter((d) => d.isFile()).map((d) => d.name);
      const sound = () => {
        for (const name of blobs()) {
          expect(createHash('sha256').update(readFileSync(join(slipway.artifacts.blobDir, name))).digest('hex')).toBe(name);
        }
      };
      mkdirSync(slipway.artifacts.blobDir, { recursive: true });
      sound();
      expect(readdirSync(join(dataDir, 'artifacts', 'tmp'))).toEqual([]);

      // Space freed: the next execution runs through, its output stored intact.
      rmSync(filler);
      const next = await startExecution(slipway.rt, pipeline, { user: 'disk-test' });
      const done = await eventually(() => ended(next.id), 60_000);
      expect(done.status).toBe('FINISHED');
      expect(blobs().length).toBeGreaterThanOrEqual(1);
      sound();
      await app.close();
      await slipway.close();
    } finally {
      execFileSync('umount', ['-l', dataDir]);
      rmSync(base, { recursive: true, force: true });
    }
  }, 120_000);
});
