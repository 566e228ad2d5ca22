// The process-level stance (README, "How it keeps going"), with real server processes: a
// step's stray rejection is logged with its execution and step and contained (the server keeps
// answering, the execution finishes); an uncaught exception is logged the same way and ends
// the process, and the next start finishes the execution.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { startExecution } from '../../src/engine/commands.ts';
import { getExecution } from '../../src/store/executions.ts';
import { seedPipeline } from '../support/seed.ts';
import { eventually, testStore, type TestStore } from '../support/slipway.ts';

const children = new Set<ChildProcess>();
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
});

interface Server { child: ChildProcess; url: string; stderr: () => string; exited: Promise<number | null> }

function startServer(store: TestStore, fault: string): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/server-child.ts'], {
    env: { ...process.env, SLIPWAY_DATA: store.dataDir, FAULT: fault, LEASE_MS: '1000' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => {
    children.delete(child);
    resolve(code);
  }));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      const m = /ready (\S+)/.exec(d.toString());
      if (m) resolve({ child, url: m[1]!, stderr: () => err, exited });
    });
    void exited.then((code) => reject(new Error(`server exited early (${code}): ${err}`)));
  });
}

async function seeded(store: TestStore): Promise<{ executionId: string; buildStepId: string }> {
  const admin = await store.open({ runEngine: false });
  const pipeline = await seedPipeline(admin, { options: { approval: false } });
  const execution = await startExecution(admin.rt, pipeline, { user: 'fault-test' });
  await admin.close();
  return { executionId: execution.id, buildStepId: execution.steps.find((s) => s.action === 'build')!.id };
}

async function statusOf(store: TestStore, id: string): Promise<string | undefined> {
  const admin = await store.open({ runEngine: false });
  try {
    return (await getExecution(admin.rt.db.kysely, id))?.status;
  } finally {
    await admin.close();
  }
}

describe('errors nobody caught, in a real server process', () => {
  it('a stray rejection is logged with its execution and step and contained: the server answers, the execution finishes', async () => {
    const store = await testStore('sqlite');
    const { executionId, buildStepId } = await seeded(store);
    const server = await startServer(store, 'rejection');
    await eventually(async () => server.stderr().includes('unhandled rejection'), 60_000);
    expect(server.stderr()).toContain(`unhandled rejection in execution ${executionId}, step ${buildStepId} (build), contained`);
    expect(server.stderr()).toContain('stray rejection from the build');
    const health = await fetch(`${server.url}/api/health`);
    expect(health.status).toBe(200);
    await eventually(async () => (await statusOf(store, executionId)) === 'FINISHED', 60_000);
    expect(server.child.exitCode).toBeNull();
    expect((await fetch(`${server.url}/api/health`)).status).toBe(200);
    server.child.kill('SIGTERM');
    await server.exited;
    store.cleanup();
  }, 120_000);

  it('an uncaught exception is logged with its execution and step and ends the process; the next start finishes the execution', async () => {
    const store = await testStore('sqlite');
    const { executionId, buildStepId } = await seeded(store);
    const first = await startServer(store, 'exception');
    expect(await first.exited).toBe(1);
    expect(first.stderr()).toContain(`uncaught exception in execution ${executionId}, step ${buildStepId} (build); exiting`);
    expect(await statusOf(store, executionId)).toBe('RUNNING');
    // What a supervisor does: start it again. The build's lease runs out and the step is re-run.
    const second = await startServer(store, 'exception');
    await eventually(async () => (await statusOf(store, executionId)) === 'FINISHED', 60_000);
    expect(second.child.exitCode).toBeNull();
    second.child.kill('SIGTERM');
    await second.exited;
    store.cleanup();
  }, 120_000);
});
