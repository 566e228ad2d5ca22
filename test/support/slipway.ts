// A Slipway on a temporary data directory, on SQLite or on a fresh PostgreSQL database.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { createSlipway, type Slipway, type SlipwayOptions } from '../../src/app.ts';
import { createDatabase } from './postgres.ts';

export type Backend = 'sqlite' | 'postgres';
export const BACKENDS: Backend[] = ['sqlite', 'postgres'];

export interface TestStore {
  dataDir: string;
  databaseUrl?: string;
  open(options?: SlipwayOptions): Promise<Slipway>;
  cleanup(): void;
}

/** A data directory (and database) that several Slipway instances can open in turn. */
export async function testStore(backend: Backend): Promise<TestStore> {
  const dataDir = mkdtempSync(join(tmpdir(), 'slipway-test-'));
  const databaseUrl = backend === 'postgres' ? await createDatabase(inject('pgAdminUrl')) : undefined;
  return {
    dataDir,
    databaseUrl,
    open: (options = {}) => createSlipway({ dataDir, databaseUrl }, options),
    cleanup: () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

/** Waits until `check` returns a truthy value (event-driven code under test, bounded wait). */
export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
