// A Slipway process that dies mid-provision (the crash-resume test kills it with SIGKILL): it
// creates an environment through the command and its driver never finishes provisioning it.
import { createSlipway } from '../../src/app.ts';
import { createEnvironment, provisionEnvironment } from '../../src/engine/environments.ts';
import { createProgram } from '../../src/store/programs.ts';
import { RecordingDriver } from './recording-driver.ts';

class StuckDriver extends RecordingDriver {
  override async provision(): Promise<unknown> {
    process.stdout.write('provisioning\n');
    return new Promise(() => undefined);
  }
}

const slipway = await createSlipway(
  { dataDir: process.env.SLIPWAY_DATA!, databaseUrl: process.env.SLIPWAY_DATABASE_URL || undefined },
  { runEngine: false, driver: new StuckDriver() },
);
const program = await createProgram(slipway.rt.db.kysely, { name: 'Crash' });
const env = await createEnvironment(slipway.rt, { programId: program.id, name: process.env.ENV_NAME ?? 'dev', type: 'dev' });
await provisionEnvironment(slipway.rt, slipway.driver, env);
