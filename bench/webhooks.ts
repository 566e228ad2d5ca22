// Webhook bench (figures printed, nothing asserted): no-op pipelines run while their events are
// delivered to two local endpoints (HTTP servers on 127.0.0.1), on SQLite and PostgreSQL.
// 1. Events delivered per second (accepted POSTs / time from the first event to the last POST).
// 2. Delay from the state change (the event's publish time, taken in its transaction) to the
//    endpoint receiving it: p50 / p99, with all executions at once (queueing included), one
//    after another (no-op steps: each execution's ~42 events come in a burst of a few ms, and
//    an execution's events are delivered in order, so they queue behind each other), and one
//    after another with steps of 25 ms (events spaced as steps space them: the delay without
//    any queue). Goals: ≥ 200 deliveries/s; without a queue p50 ≤ 20 ms, p99 ≤ 200 ms.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSlipway } from '../src/app.ts';
import { EVENT_KINDS } from '../src/domain/cloud-events.ts';
import { STEP_ACTIONS } from '../src/domain/model.ts';
import { startExecution } from '../src/engine/commands.ts';
import type { HandlerRegistry } from '../src/steps/handler.ts';
import { createWebhook } from '../src/store/webhooks.ts';
import { createDatabase, startPostgres } from '../test/support/postgres.ts';
import { seedPipeline } from '../test/support/seed.ts';
import { startReceiver, type Receiver } from '../test/support/webhook-receiver.ts';
import { percentile as pct, round, type Figures } from './figures.ts';

interface Deliveries { perSecond: number; count: number; seconds: number; p50Ms: number; p99Ms: number }

const show = (d: Deliveries): string => `${d.perSecond.toFixed(0)} deliveries/s (${d.count} in ${d.seconds.toFixed(2)} s); `
  + `state change → received: p50 ${d.p50Ms} ms, p99 ${d.p99Ms} ms`;

async function bench(databaseUrl: string | undefined, executions: number, together: boolean, stepMs = 0): Promise<Deliveries> {
  const dataDir = mkdtempSync(join(tmpdir(), 'slipway-bench-'));
  const handlers: HandlerRegistry = {};
  for (const action of STEP_ACTIONS) {
    handlers[action] = {
      action, idempotent: true,
      run: async () => {
        if (stepMs) await new Promise((r) => setTimeout(r, stepMs));
        return { outcome: 'finished' };
      },
    };
  }
  const s = await createSlipway({ dataDir, databaseUrl }, { handlers, concurrency: 8 });
  const receivers: Receiver[] = [await startReceiver(), await startReceiver()];
  const receivedAt = new Map<string, number>();
  // Only what arrived since the last look is read: the bench shares its process with Slipway.
  const seen = receivers.map(() => 0);
  const collect = () => receivers.forEach((r, i) => {
    for (const x of r.received.slice(seen[i])) {
      const key = `${r.url} ${JSON.parse(x.body).event_id as string}`;
      if (!receivedAt.has(key)) receivedAt.set(key, x.at);
    }
    seen[i] = r.received.length;
  });
  try {
    const pipelines = [];
    for (let i = 0; i < executions; i++) {
      const pipeline = await seedPipeline(s, { options: { approval: false } });
      for (const r of receivers) {
        await createWebhook(s.rt.db.kysely, s.rt.secrets, { programId: pipeline.programId, url: r.url, secret: 'bench-secret', events: [...EVENT_KINDS] });
      }
      pipelines.push(pipeline);
    }
    s.startWebhooks({ baseUrl: 'http://slipway.bench' });
    const t0 = Date.now();
    const journal = s.rt.db.kysely.selectFrom('events').select(['event_id', 'published_at']);
    const settled = async () => {
      for (;;) {
        collect();
        // Counted, not read: this look runs every 5 ms beside the deliveries it waits for.
        const { events } = await s.rt.db.kysely.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('events')).executeTakeFirstOrThrow();
        const busy = await s.rt.db.kysely.selectFrom('executions').select('id').where('busy_pipeline_id', 'is not', null).executeTakeFirst();
        if (!busy && receivedAt.size >= Number(events) * receivers.length) return;
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    if (together) {
      await Promise.all(pipelines.map((p) => startExecution(s.rt, p, { user: 'bench' })));
      await settled();
    } else {
      // One at a time: the delay without a backlog.
      for (const p of pipelines) {
        await startExecution(s.rt, p, { user: 'bench' });
        await settled();
      }
    }
    const seconds = (Math.max(...receivedAt.values()) - t0) / 1000;
    const published = new Map((await journal.execute()).map((r) => [r.event_id, Number(r.published_at)]));
    const delays: number[] = [];
    for (const [key, at] of receivedAt) delays.push(at - (published.get(key.split(' ')[1]!) ?? at));
    return { perSecond: receivedAt.size / seconds, count: receivedAt.size, seconds, p50Ms: pct(delays, 50), p99Ms: pct(delays, 99) };
  } finally {
    await s.close();
    for (const r of receivers) await r.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function run(): Promise<Figures> {
  const pg = await startPostgres();
  const figures: Figures = {};
  try {
    const modes = [
      { name: 'at once (a backlog: throughput)', executions: 30, together: true, stepMs: 0, key: '' },
      { name: 'one after another, no-op steps (each execution\'s events in a burst)', executions: 30, together: false, stepMs: 0, key: 'Burst' },
      { name: 'one after another, steps of 25 ms (no queue)', executions: 10, together: false, stepMs: 25, key: '' },
    ];
    for (const mode of modes) {
      console.log(`webhooks: ${mode.executions} executions ${mode.name}, 2 subscriptions per program`);
      const sqlite = await bench(undefined, mode.executions, mode.together, mode.stepMs);
      console.log(`  SQLite:     ${show(sqlite)}`);
      const postgres = await bench(await createDatabase(pg.url, 'bench'), mode.executions, mode.together, mode.stepMs);
      console.log(`  PostgreSQL: ${show(postgres)}`);
      if (mode.together) {
        Object.assign(figures, { sqliteDeliveriesPerSecond: round(sqlite.perSecond), postgresDeliveriesPerSecond: round(postgres.perSecond) });
      } else {
        const k = mode.key;
        Object.assign(figures, {
          [`sqlite${k}DelayP50Ms`]: sqlite.p50Ms, [`sqlite${k}DelayP99Ms`]: sqlite.p99Ms,
          [`postgres${k}DelayP50Ms`]: postgres.p50Ms, [`postgres${k}DelayP99Ms`]: postgres.p99Ms,
        });
      }
    }
  } finally {
    pg.stop();
  }
  return figures;
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
