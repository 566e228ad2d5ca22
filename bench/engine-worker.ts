// An engine process for the throughput bench: no-op handlers, so what is measured is
// orchestration (claim, lease, transition, wake-up), nothing else.
import { createSlipway } from '../src/app.ts';
import { STEP_ACTIONS } from '../src/domain/model.ts';
import type { HandlerRegistry } from '../src/steps/handler.ts';

const handlers: HandlerRegistry = {};
for (const action of STEP_ACTIONS) handlers[action] = { action, idempotent: true, run: async () => ({ outcome: 'finished' }) };

const slipway = await createSlipway(
  { dataDir: process.env.SLIPWAY_DATA!, databaseUrl: process.env.SLIPWAY_DATABASE_URL },
  { handlers, concurrency: Number(process.env.CONCURRENCY ?? '8'), log: (line) => process.stderr.write(`${line}\n`) },
);
// Whether it claims work or stands by (src/engine/host-slot.ts): the bench says how many claim.
process.stdout.write(`ready ${slipway.engine.active ? 'active' : 'standby'}\n`);
// The peak RSS (sampled) goes out on stop: the 1,000-executions bench reports it.
let peakRss = process.memoryUsage().rss;
const sample = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 100);
process.on('SIGTERM', () => void slipway.close().then(() => {
  clearInterval(sample);
  process.stdout.write(`rss ${peakRss}\n`, () => process.exit(0));
}));
