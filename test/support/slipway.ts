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

export { eventually } from './eventually.ts';
