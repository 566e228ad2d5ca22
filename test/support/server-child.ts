// A Slipway server process for the process-fault tests: `node --import tsx test/support/server-child.ts`.
// Its build step misbehaves as FAULT says, once per data directory (a marker file), so a
// restarted process runs the step cleanly:
//   rejection: leaves a promise rejected that nobody awaits, then finishes;
//   exception: throws from a timer callback, outside anything that could catch it.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildServer } from '../../src/api/server.ts';
import { createSlipway } from '../../src/app.ts';
import { handleProcessFaults } from '../../src/cli/process-faults.ts';
import { pause, testHandlers } from './engine-handlers.ts';

const dataDir = process.env.SLIPWAY_DATA!;
handleProcessFaults((line) => process.stderr.write(`[slipway] ${line}\n`));
const handlers = testHandlers({
  build: async (ctx) => {
    const marker = join(dataDir, 'fault-done');
    if (!existsSync(marker)) {
      writeFileSync(marker, '');
      if (process.env.FAULT === 'rejection') void Promise.reject(new Error('stray rejection from the build'));
      if (process.env.FAULT === 'exception') setTimeout(() => { throw new Error('thrown from the build'); }, 10);
    }
    await pause(200, ctx.signal);
    return { outcome: 'finished' };
  },
});
const slipway = await createSlipway(
  { dataDir, databaseUrl: process.env.SLIPWAY_DATABASE_URL || undefined },
  { handlers, leaseMs: Number(process.env.LEASE_MS ?? '1000') },
);
const app = await buildServer(slipway, { adminToken: 'server-child-admin-token' });
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
process.stdout.write(`ready http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}\n`);
process.on('SIGTERM', () => void app.close().then(() => slipway.close()).then(() => process.exit(0)));
