// Engine processes for kill -9 tests (test/support/engine-child.ts on a store): started until
// they say ready, killed hard, and every one still running is killed after the test file.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll } from 'vitest';
import type { TestStore } from './slipway.ts';

const children = new Set<ChildProcess>();
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
});

export function startEngine(store: TestStore, env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/engine-child.ts'], {
    env: { ...process.env, SLIPWAY_DATA: store.dataDir, SLIPWAY_DATABASE_URL: store.databaseUrl ?? '', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('ready')) resolve(child); });
    child.on('exit', (code) => reject(new Error(`engine exited early (${code})`)));
  });
}

export const killHard = (child: ChildProcess) => new Promise<void>((resolve) => {
  child.once('exit', () => resolve());
  child.kill('SIGKILL');
});
