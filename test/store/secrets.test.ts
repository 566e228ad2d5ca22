// Secrets at rest: sealed in the database with a key kept outside it, migrated from plaintext
// at start-up, rotated in one transaction; the data directory is private; deleting an owner
// deletes its variables.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tx } from '../../src/store/db.ts';
import { deletePipeline } from '../../src/store/pipelines.ts';
import { deleteProgram } from '../../src/store/programs.ts';
import { SecretBox } from '../../src/store/secret-box.ts';
import { listVariables, patchVariables } from '../../src/store/variables.ts';
import { createWebhook, getWebhook, webhookSecret } from '../../src/store/webhooks.ts';
import { rotateSecretsKey } from '../../src/secrets-key.ts';
import { secureDataDir } from '../../src/data-dir.ts';
import { seedPipeline } from '../support/seed.ts';
import { BACKENDS, testStore } from '../support/slipway.ts';

const SECRET = 'correct-horse-battery-staple';
const mode = (path: string) => statSync(path).mode & 0o777;

describe.each(BACKENDS)('secrets at rest on %s', (backend) => {
  const rawValues = async (s: Awaited<ReturnType<Awaited<ReturnType<typeof testStore>>['open']>>) =>
    (await s.rt.db.kysely.selectFrom('variables').select(['name', 'value']).execute());

  it('stores secret values sealed: the database never holds the plaintext, the API layer reads it back', async () => {
    const store = await testStore(backend);
    const s = await store.open({ runEngine: false });
    try {
      const db = s.rt.db.kysely;
      await patchVariables(db, s.rt.secrets, 'pipeline', '1', [
        { name: 'TOKEN', value: SECRET, type: 'secretString' },
        { name: 'PLAIN', value: 'visible-value', type: 'string' },
      ]);
      const raw = await rawValues(s);
      expect(raw.find((r) => r.name === 'PLAIN')?.value).toBe('visible-value');
      expect(raw.find((r) => r.name === 'TOKEN')?.value).toMatch(/^slwenc:v1:/);
      expect(JSON.stringify(raw)).not.toContain(SECRET);
      expect((await listVariables(db, s.rt.secrets, 'pipeline', '1')).find((v) => v.name === 'TOKEN')?.value).toBe(SECRET);
      // A sealed value moved onto another variable does not open.
      const sealed = raw.find((r) => r.name === 'TOKEN')!.value;
      expect(() => s.rt.secrets.open(sealed, 'pipeline/2/TOKEN/')).toThrow(/altered or moved/);
    } finally {
      await s.close();
    }
    if (backend === 'sqlite') {
      // Every file of the database (WAL included) after a checkpointing close.
      const files = readdirSync(store.dataDir).filter((f) => f.startsWith('slipway.db'));
      expect(files.length).toBeGreaterThan(0);
      for (const f of files) expect(readFileSync(join(store.dataDir, f)).includes(Buffer.from(SECRET)), f).toBe(false);
    }
    store.cleanup();
  });

  it('seals plaintext secrets left by an older version at start-up', async () => {
    const store = await testStore(backend);
    let s = await store.open({ runEngine: false });
    try {
      await s.rt.db.kysely.insertInto('variables').values({
        owner_kind: 'pipeline', owner_id: 5, name: 'OLD', service: '', type: 'secretString', value: SECRET,
      }).execute();
      await s.close();
      s = await store.open({ runEngine: false });
      const raw = await rawValues(s);
      expect(raw[0]?.value).toMatch(/^slwenc:v1:/);
      expect(JSON.stringify(raw)).not.toContain(SECRET);
      expect((await listVariables(s.rt.db.kysely, s.rt.secrets, 'pipeline', '5'))[0]?.value).toBe(SECRET);
    } finally {
      await s.close();
      store.cleanup();
    }
  });

  it('rotation re-seals every secret (webhook secrets too) with a new key file; the old key no longer opens them', async () => {
    const store = await testStore(backend);
    let s = await store.open({ runEngine: false });
    const keyFile = join(store.dataDir, 'secrets.key');
    try {
      await patchVariables(s.rt.db.kysely, s.rt.secrets, 'environment', '3', [
        { name: 'A_KEY', value: SECRET, type: 'secretString' },
        { name: 'B_KEY', value: `${SECRET}-2`, type: 'secretString', service: 'publish' },
      ]);
      const { programId } = await seedPipeline(s);
      const hook = await createWebhook(s.rt.db.kysely, s.rt.secrets, { programId, url: 'http://127.0.0.1:9/hook', secret: `${SECRET}-hook`, events: [] });
      const oldKey = readFileSync(keyFile, 'utf8');
      const before = await rawValues(s);
      const result = await rotateSecretsKey({ dataDir: store.dataDir }, s.rt.db);
      expect(result.resealed).toBe(3);
      expect(readFileSync(keyFile, 'utf8')).not.toBe(oldKey);
      expect(mode(keyFile)).toBe(0o600);
      expect(existsSync(`${keyFile}.new`)).toBe(false);
      const after = await rawValues(s);
      for (const r of after) expect(before.map((b) => b.value)).not.toContain(r.value);
      const oldBox = new SecretBox(Buffer.from(oldKey.trim(), 'base64'));
      expect(() => oldBox.open(after[0]!.value, 'environment/3/A_KEY/')).toThrow(/not the configured secrets key/);
      await s.close();
      s = await store.open({ runEngine: false });
      expect((await listVariables(s.rt.db.kysely, s.rt.secrets, 'environment', '3')).map((v) => v.value)).toEqual([SECRET, `${SECRET}-2`]);
      expect(webhookSecret((await getWebhook(s.rt.db.kysely, hook.id))!, s.rt.secrets)).toBe(`${SECRET}-hook`);
    } finally {
      await s.close();
      store.cleanup();
    }
  });

  it('a key from SLIPWAY_SECRETS_KEY: no key file, and another key cannot open the values', async () => {
    const store = await testStore(backend);
    const key = Buffer.alloc(32, 7);
    const { createSlipway } = await import('../../src/app.ts');
    const s = await createSlipway({ dataDir: store.dataDir, databaseUrl: store.databaseUrl, secretsKey: key }, { runEngine: false });
    try {
      await patchVariables(s.rt.db.kysely, s.rt.secrets, 'pipeline', '9', [{ name: 'K', value: SECRET, type: 'secretString' }]);
      expect(existsSync(join(store.dataDir, 'secrets.key'))).toBe(false);
      const raw = (await rawValues(s))[0]!.value;
      expect(new SecretBox(key).open(raw, 'pipeline/9/K/')).toBe(SECRET);
      expect(() => new SecretBox(Buffer.alloc(32, 8)).open(raw, 'pipeline/9/K/')).toThrow();
    } finally {
      await s.close();
      store.cleanup();
    }
  });

  it('deleting a pipeline or a program deletes its variables (and its environments\' variables)', async () => {
    const store = await testStore(backend);
    const s = await store.open({ runEngine: false });
    try {
      const db = s.rt.db.kysely;
      const first = await seedPipeline(s);
      const second = await seedPipeline(s);
      const envId = first.environments.stage!;
      const vars = [{ name: 'TOKEN', value: SECRET, type: 'secretString' as const }];
      for (const p of [first, second]) await patchVariables(db, s.rt.secrets, 'pipeline', p.id, vars);
      await patchVariables(db, s.rt.secrets, 'environment', envId, vars);
      await tx(s.rt.db, (trx) => deletePipeline(trx, second.id));
      expect(await listVariables(db, s.rt.secrets, 'pipeline', second.id)).toEqual([]);
      expect(await listVariables(db, s.rt.secrets, 'pipeline', first.id)).toHaveLength(1);
      await tx(s.rt.db, (trx) => deleteProgram(trx, first.programId));
      expect(await db.selectFrom('variables').selectAll().execute()).toEqual([]);
    } finally {
      await s.close();
      store.cleanup();
    }
  });
});

describe('data directory', () => {
  it('is 0700 with 0600 files, existing ones tightened at start-up', async () => {
    const store = await testStore('sqlite');
    chmodSync(store.dataDir, 0o755);
    writeFileSync(join(store.dataDir, 'admin-token'), 'x', { mode: 0o644 });
    mkdirSync(join(store.dataDir, 'logs'), { mode: 0o755 });
    const s = await store.open({ runEngine: false });
    try {
      expect(mode(store.dataDir)).toBe(0o700);
      for (const f of ['admin-token', 'slipway.db', 'secrets.key']) expect(mode(join(store.dataDir, f)), f).toBe(0o600);
    } finally {
      await s.close();
      store.cleanup();
    }
  });

  it('starts while another process creates and removes files in it (a database closing its -wal and -shm)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-churn-'));
    // A separate process, so its files come and go between this one's listing and its lstat.
    const churn = spawn(process.execPath, ['-e', `
      const fs = require('node:fs');
      const end = Date.now() + 1500;
      for (let i = 0; Date.now() < end; i++) { const f = ${JSON.stringify(dir)} + '/f' + (i % 50); fs.writeFileSync(f, '', { mode: 0o644 }); fs.rmSync(f); }
    `]);
    const exited = new Promise((r) => churn.once('exit', r));
    try {
      while (churn.exitCode === null) {
        secureDataDir(dir);
        await new Promise((r) => setImmediate(r));
      }
    } finally {
      await exited;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('`slipway rotate-secrets-key` runs with umask 077: the database and the new key are 0600', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'slipway-rotate-')), 'data');
    try {
      const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', SLIPWAY_DATA: dir };
      const out = execFileSync(process.execPath, ['bin/slipway.js', 'rotate-secrets-key'], { env }).toString();
      expect(out).toMatch(/Re-encrypted 0 secret value\(s\); the new key is in .*secrets\.key/);
      expect(mode(dir)).toBe(0o700);
      for (const f of readdirSync(dir)) expect(mode(join(dir, f)), f).toBe(0o600);
    } finally {
      rmSync(dirname(dir), { recursive: true, force: true });
    }
  });
});

