// Environments as commands. An environment survives a crash mid-provision: the process is killed (SIGKILL) while its
// driver provisions, and the next start-up finishes the job. It ends ready, or failed when the
// driver cannot make it; never stuck in `creating`. A deletion cut off the same way ends too.
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import type { Environment } from '../../src/domain/model.ts';
import { CommandRefused, startExecution } from '../../src/engine/commands.ts';
import { createEnvironment, deleteEnvironment } from '../../src/engine/environments.ts';
import { untilAborted, testHandlers } from '../support/engine-handlers.ts';
import { seedPipeline } from '../support/seed.ts';
import { getEnvironment, listEnvironments, updateEnvironment } from '../../src/store/environments.ts';
import { RecordingDriver } from '../support/recording-driver.ts';
import { BACKENDS, eventually, testStore, type TestStore } from '../support/slipway.ts';

/** Each test starts a Slipway process and one or two more Slipways: slow on a loaded machine. */
const PROCESS_TEST_MS = 180_000;

/** Runs the provision child until it is provisioning, then kills it hard. */
async function crashMidProvision(store: TestStore): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/provision-child.ts'], {
    env: { ...process.env, SLIPWAY_DATA: store.dataDir, SLIPWAY_DATABASE_URL: store.databaseUrl ?? '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => { if (d.toString().includes('provisioning')) resolve(); });
      child.on('exit', (code) => reject(new Error(`the provision child exited early (${code})`)));
    });
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }
}

describe.each(BACKENDS)('environments across a crash on %s', (backend) => {
  let store: TestStore | undefined;
  afterEach(() => store?.cleanup());

  const restart = async (driver: RecordingDriver): Promise<Environment[]> => {
    const slipway = await store!.open({ runEngine: false, driver });
    try {
      await slipway.adoptEnvironments();
      return await listEnvironments(slipway.rt.db.kysely);
    } finally {
      await slipway.close();
    }
  };

  it('a provisioning cut off by kill -9 is finished at the next start: ready', async () => {
    store = await testStore(backend);
    await crashMidProvision(store);
    const driver = new RecordingDriver();
    const [env] = await restart(driver);
    expect(env).toMatchObject({ status: 'ready', settings: { topology: { recorded: true } } });
    expect(driver.calls).toEqual([{ method: 'provision', environmentId: env!.id }]);
  }, PROCESS_TEST_MS);

  it('... or failed, when the driver cannot make it; a failed environment can be deleted', async () => {
    store = await testStore(backend);
    await crashMidProvision(store);
    const driver = new RecordingDriver();
    driver.failProvision = true;
    const [env] = await restart(driver);
    expect(env?.status).toBe('failed');

    const slipway = await store.open({ runEngine: false, driver });
    try {
      await deleteEnvironment(slipway.rt, slipway.driver, env!.id);
      expect(await getEnvironment(slipway.rt.db.kysely, env!.id)).toBeUndefined();
    } finally {
      await slipway.close();
    }
  }, PROCESS_TEST_MS);

  it('a deletion cut off mid-way is finished at the next start', async () => {
    store = await testStore(backend);
    await crashMidProvision(store);
    // As a crash between `deleting` and the driver's teardown leaves it.
    const slipway = await store.open({ runEngine: false, driver: new RecordingDriver() });
    const [env] = await listEnvironments(slipway.rt.db.kysely);
    await updateEnvironment(slipway.rt.db.kysely, env!.id, { status: 'deleting' });
    await slipway.close();
    const driver = new RecordingDriver();
    expect(await restart(driver)).toEqual([]);
    expect(driver.calls.map((c) => c.method)).toEqual(['destroy']);
  }, PROCESS_TEST_MS);
});

describe('deleting an environment', () => {
  it('is refused while an execution runs against it, and while it is still being made', async () => {
    const store = await testStore('sqlite');
    const driver = new RecordingDriver();
    const slipway = await store.open({ driver, handlers: testHandlers({ build: (ctx) => untilAborted(ctx.signal) }) });
    try {
      const pipeline = await seedPipeline(slipway, { options: { approval: false } });
      const execution = await startExecution(slipway.rt, pipeline, { user: 'ada' });
      await eventually(async () => (await slipway.rt.db.kysely.selectFrom('steps').select('status')
        .where('execution_id', '=', Number(execution.id)).where('action', '=', 'build').executeTakeFirst())?.status === 'RUNNING');
      const refused = await deleteEnvironment(slipway.rt, driver, pipeline.environments.stage!).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(CommandRefused);
      expect(refused).toMatchObject({ code: 'BUSY', message: expect.stringMatching(/running against environment stage/) });
      expect((await getEnvironment(slipway.rt.db.kysely, pipeline.environments.stage!))?.status).toBe('ready');

      const making = await createEnvironment(slipway.rt, { programId: pipeline.programId, name: 'new', type: 'dev' });
      await expect(deleteEnvironment(slipway.rt, driver, making.id)).rejects.toMatchObject({ code: 'CONFLICT' });
      expect(driver.calls.filter((c) => c.method === 'destroy')).toEqual([]);
    } finally {
      await slipway.close();
      store.cleanup();
    }
  });
});
