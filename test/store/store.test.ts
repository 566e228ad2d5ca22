import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject, describe, expect, it } from 'vitest';
import { migrate, openDb } from '../../src/store/db.ts';
import { copyArtifactReferences, listExecutionArtifacts, recordArtifact } from '../../src/store/artifacts.ts';
import { insertExecution, PipelineBusyError } from '../../src/store/executions.ts';
import { LogStore } from '../../src/runner/logs.ts';
import { listVariables, patchVariables, variablesForService } from '../../src/store/variables.ts';
import { addToken, ensureUser, grantRole, rolesOf, userByToken } from '../../src/store/users.ts';
import { createDatabase } from '../support/postgres.ts';
import { seedPipeline } from '../support/seed.ts';
import { BACKENDS, testStore } from '../support/slipway.ts';

async function readAll(stream: NodeJS.ReadableStream | undefined): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream ?? []) parts.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(parts);
}

describe.each(BACKENDS)('store on %s', (backend) => {
  it('applies the migrations once, even when several processes start at the same moment', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'slipway-migrate-'));
    const databaseUrl = backend === 'postgres' ? await createDatabase(inject('pgAdminUrl')) : undefined;
    const env = { ...process.env, SLIPWAY_DATA: dataDir, SLIPWAY_DATABASE_URL: databaseUrl ?? '' };
    const migrateInChild = () => new Promise<number[]>((resolve, reject) => {
      execFile(process.execPath, ['--import', 'tsx', 'test/support/migrate-child.ts'], { env }, (error, stdout) =>
        (error ? reject(error) : resolve(JSON.parse(stdout) as number[])));
    });
    try {
      const applied = await Promise.all([migrateInChild(), migrateInChild(), migrateInChild(), migrateInChild()]);
      expect(applied.flat()).toEqual([1, 2, 3]);
      const db = openDb({ dataDir, databaseUrl });
      expect(await migrate(db)).toEqual([]);
      await db.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('keeps one running execution per pipeline, and artifacts by reference', async () => {
    const store = await testStore(backend);
    const s = await store.open({ runEngine: false });
    try {
      const db = s.rt.db.kysely;
      const p = await seedPipeline(s);
      const base = {
        programId: p.programId, pipelineId: p.id, pipelineType: p.type, trigger: 'MANUAL' as const, mode: 'NORMAL' as const,
        user: 'ada', steps: [{ phase: 'build' as const, action: 'build' as const }], environmentIds: {},
      };
      const first = await insertExecution(db, base, Date.now());
      await expect(insertExecution(db, base, Date.now())).rejects.toBeInstanceOf(PipelineBusyError);
      await recordArtifact(db, { executionId: first.id, stepId: first.steps[0]!.id, digest: `sha256:${'a'.repeat(64)}`, type: 'APP_IMAGE', name: 'app', size: 3 });
      await db.updateTable('executions').set({ busy_pipeline_id: null, status: 'FINISHED' }).execute();
      const second = await insertExecution(db, base, Date.now());
      expect(await copyArtifactReferences(db, first.id, second.id, second.steps[0]!.id)).toBe(1);
      expect((await listExecutionArtifacts(db, second.id)).map((a) => a.digest)).toEqual([`sha256:${'a'.repeat(64)}`]);
      expect(Number((await db.selectFrom('artifacts').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)).toBe(1);
    } finally {
      await s.close();
      store.cleanup();
    }
  });

  it('variables: a patch carries changes, an empty value deletes, services override the defaults', async () => {
    const store = await testStore(backend);
    const s = await store.open({ runEngine: false });
    try {
      const db = s.rt.db.kysely;
      const box = s.rt.secrets;
      await patchVariables(db, box, 'environment', '1', [
        { name: 'GREETING', value: 'hello', type: 'string' },
        { name: 'GREETING', value: 'hi author', type: 'string', service: 'author' },
        { name: 'API_KEY', value: 's3cret', type: 'secretString' },
      ]);
      await patchVariables(db, box, 'environment', '1', [{ name: 'GREETING', value: '', type: 'string' }]);
      const all = await listVariables(db, box, 'environment', '1');
      expect(all.map((v) => `${v.name}:${v.service ?? '*'}`)).toEqual(['API_KEY:*', 'GREETING:author']);
      expect(variablesForService(all, 'author')).toEqual({ values: { API_KEY: 's3cret', GREETING: 'hi author' }, secrets: ['s3cret'] });
      expect(variablesForService(all, 'publish').values).toEqual({ API_KEY: 's3cret' });
    } finally {
      await s.close();
      store.cleanup();
    }
  });

  it('tokens are stored hashed and roles are per program', async () => {
    const store = await testStore(backend);
    const s = await store.open({ runEngine: false });
    try {
      const db = s.rt.db.kysely;
      const p = await seedPipeline(s);
      const user = await ensureUser(db, 'dev');
      await addToken(db, user.id, 'slw_token_of_dev_000000', 'test');
      expect((await db.selectFrom('tokens').select('hash').execute()).map((t) => t.hash)).not.toContain('slw_token_of_dev_000000');
      expect(await userByToken(db, 'slw_token_of_dev_000000')).toMatchObject({ name: 'dev', admin: false });
      expect(await userByToken(db, 'slw_wrong')).toBeUndefined();
      await grantRole(db, p.programId, user.id, 'DEVELOPER');
      expect(await rolesOf(db, p.programId, user.id)).toEqual(['DEVELOPER']);
      expect(await rolesOf(db, '999', user.id)).toEqual([]);
    } finally {
      await s.close();
      store.cleanup();
    }
  });
});

describe('log store', () => {
  it('appends, reads byte ranges and masks secrets across chunks', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-logs-'));
    try {
      const logs = new LogStore(dir);
      expect(logs.size('7')).toBeUndefined();
      const w = logs.open('7', 'main', ['hunter2']);
      w.line('line one');
      w.write('token=hun');
      w.write('ter2 done\n');
      w.close();
      const text = 'line one\ntoken=**** done\n';
      expect((await readAll(logs.stream('7', 'main', 0, 1e9))).toString()).toBe(text);
      expect((await readAll(logs.stream('7', 'main', 5, 8))).toString()).toBe('one');
      expect((await readAll(logs.stream('7', 'main', 3, 3))).toString()).toBe('');
      expect(logs.size('7')).toBe(Buffer.byteLength(text));
      expect(logs.pathOf('7', '../../etc/passwd')).toBeUndefined();
      expect(logs.pathOf('../7')).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('log size cap', () => {
  it('a step writing past the cap gets a cut log that says where and why', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-logs-'));
    try {
      const logs = new LogStore(dir, { maxBytes: 1000 });
      const w = logs.open('8');
      for (let i = 0; i < 100; i++) w.line(`line ${String(i).padStart(3, '0')} ${'x'.repeat(40)}`);
      w.close();
      const text = (await readAll(logs.stream('8', 'main', 0, 1e9))).toString();
      const [kept, notice] = [text.slice(0, 1000), text.slice(1000)];
      expect(kept.startsWith('line 000 ')).toBe(true);
      expect(notice).toMatch(/^\n\[slipway\] log cut at 1000 bytes .*SLIPWAY_MAX_LOG_BYTES.*dropped\n$/);
      expect(text).not.toContain('line 099');
      // A retried attempt appends to the same file: still cut, nothing more written.
      const again = logs.open('8');
      again.line('attempt 2');
      again.close();
      expect(logs.size('8')).toBe(Buffer.byteLength(text));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
