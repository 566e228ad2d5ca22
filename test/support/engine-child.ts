// An engine process for crash tests: `node --import tsx test/support/engine-child.ts`.
// Its handlers append what they do to EFFECTS_FILE, so the parent can check that no effect of
// a handler that declared itself not idempotent was ever applied twice.
import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSlipway } from '../../src/app.ts';
import { STEP_ACTIONS } from '../../src/domain/model.ts';
import type { HandlerRegistry } from '../../src/steps/handler.ts';

const effects = process.env.EFFECTS_FILE ?? '/dev/null';
const stepMs = Number(process.env.STEP_MS ?? '20');
const handlers: HandlerRegistry = {};
for (const action of STEP_ACTIONS) {
  // `deploy` stands for a step with outside effects that must not be repeated.
  const idempotent = action !== 'deploy';
  handlers[action] = {
    action,
    idempotent,
    async run(ctx) {
      appendFileSync(effects, `start ${ctx.step.id} ${process.pid}\n`);
      await sleep(Math.random() * stepMs * 2, undefined, { signal: ctx.signal });
      if (!idempotent) appendFileSync(effects, `effect ${ctx.step.id} ${process.pid}\n`);
      await sleep(Math.random() * stepMs, undefined, { signal: ctx.signal });
      return { outcome: 'finished' };
    },
  };
}

const slipway = await createSlipway(
  { dataDir: process.env.SLIPWAY_DATA!, databaseUrl: process.env.SLIPWAY_DATABASE_URL || undefined },
  { handlers, leaseMs: Number(process.env.LEASE_MS ?? '1000'), workerId: process.env.WORKER_ID, concurrency: Number(process.env.CONCURRENCY ?? '4'),
    ...(process.env.ACTIVE_ENGINES ? { activeEngines: Number(process.env.ACTIVE_ENGINES) } : {}) },
);
// Webhook crash tests: this process delivers too, so a kill -9 also cuts deliveries off mid-POST.
if (process.env.WEBHOOK_BASE) slipway.startWebhooks({ baseUrl: process.env.WEBHOOK_BASE, timeoutMs: 1000, retryBaseMs: 50, retryCapMs: 200, pollMs: 100 });
process.stdout.write('ready\n');
process.on('SIGTERM', () => void slipway.close().then(() => process.exit(0)));
