// Log tail (figures printed, nothing asserted): a step writes a line every 5–25 ms; a client
// tails its log over HTTP as the UI does (the signed log URL, Range from its offset, wait= so a
// read at the end waits for the next bytes). Measured: line written → line read by the client,
// p50/p99. Goal: p99 ≤ 100 ms. SQLite, engine and API in one process on 127.0.0.1.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildServer } from '../src/api/server.ts';
import { createSlipway } from '../src/app.ts';
import { STEP_ACTIONS } from '../src/domain/model.ts';
import { startExecution } from '../src/engine/commands.ts';
import type { HandlerRegistry } from '../src/steps/handler.ts';
import { seedPipeline } from '../test/support/seed.ts';
import { percentile, round, type Figures } from './figures.ts';

const TOKEN = 'slw_bench_admin_token_0123456789';
const LINES = 300;
const REL = 'http://ns.adobe.com/adobecloud/rel/';

type Links = Record<string, { href: string }>;
interface ExecutionJson { _embedded: { stepStates: { action: string; status: string; _links: Links }[] } }

export async function run(): Promise<Figures> {
  const dataDir = mkdtempSync(join(tmpdir(), 'slipway-bench-tail-'));
  let release: () => void = () => undefined;
  const released = new Promise<void>((r) => { release = r; });
  const handlers: HandlerRegistry = {};
  for (const action of STEP_ACTIONS) handlers[action] = { action, idempotent: true, run: async () => ({ outcome: 'finished' }) };
  handlers.validate = {
    action: 'validate', idempotent: true,
    async run(ctx) {
      await released; // the client is tailing before the first line
      for (let i = 0; i < LINES; i++) {
        await sleep(5 + Math.random() * 20);
        ctx.log.line(`line ${i} ${performance.now()}`);
      }
      return { outcome: 'finished' };
    },
  };
  const slipway = await createSlipway({ dataDir }, { handlers });
  const app = await buildServer(slipway, { adminToken: TOKEN });
  try {
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    const headers = { authorization: `Bearer ${TOKEN}`, accept: 'application/json' };
    const pipeline = await seedPipeline(slipway, { options: { approval: false } });
    const execution = await startExecution(slipway.rt, pipeline, { user: 'bench' });
    const view = await (await fetch(`${base}/api/program/${pipeline.programId}/pipeline/${pipeline.id}/execution/${execution.id}`, { headers })).json() as ExecutionJson;
    const validate = view._embedded.stepStates.find((s) => s.action === 'validate');
    const logs = validate?._links[`${REL}pipeline/logs`]?.href;
    if (!logs) throw new Error('no logs link on the validate step');
    const { redirect } = await (await fetch(new URL(logs, base), { headers })).json() as { redirect: string };
    const url = new URL(redirect, base);
    url.searchParams.set('wait', '10');

    const delays: number[] = [];
    let offset = 0;
    let pending = '';
    release();
    while (delays.length < LINES) {
      const res = await fetch(url, { headers: offset > 0 ? { range: `bytes=${offset}-` } : {} });
      const body = Buffer.from(await res.arrayBuffer());
      const readAt = performance.now();
      if (res.status !== 200 && res.status !== 206) continue; // 404 / 416: waited, nothing new
      offset += body.length;
      pending += body.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const at = Number(/^line \d+ ([\d.]+)$/.exec(line)?.[1]);
        if (Number.isFinite(at)) delays.push(readAt - at);
      }
    }
    const p50 = percentile(delays, 50);
    const p99 = percentile(delays, 99);
    console.log(`log-tail: ${LINES} lines, one every 5–25 ms, tailed over HTTP (Range + wait=)`);
    console.log(`  line written → read by the client: p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${Math.max(...delays).toFixed(1)} ms — goal p99 ≤ 100 ms`);
    return { p50Ms: round(p50), p99Ms: round(p99) };
  } finally {
    release();
    await app.close();
    await slipway.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
