// Lease takeover (figures printed, nothing asserted): two engine processes on PostgreSQL, the
// one running a step is killed with SIGKILL, and the time until the other one starts that step
// is measured, for a few lease lengths. Expected: at most a lease plus a claim (leases are
// renewed every third of one; the kill here comes right after the claim, so about one lease).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createSlipway } from '../src/app.ts';
import { startExecution } from '../src/engine/commands.ts';
import { createDatabase, startPostgres } from '../test/support/postgres.ts';
import { seedPipeline } from '../test/support/seed.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function engineProcess(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/engine-child.ts'], {
    env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('ready')) resolve(child); });
    child.on('exit', (code) => reject(new Error(`engine exited early (${code})`)));
  });
}

async function until<T>(check: () => T | undefined, timeoutMs: number): Promise<T | undefined> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const v = check();
    if (v !== undefined) return v;
    await sleep(5);
  }
  return undefined;
}

/** One takeover: ms from the SIGKILL of the engine running a step to the other one starting it. */
export async function takeover(adminUrl: string, leaseMs: number): Promise<number | undefined> {
  const databaseUrl = await createDatabase(adminUrl, 'takeover');
  const dataDir = mkdtempSync(join(tmpdir(), 'slipway-bench-takeover-'));
  const effects = join(dataDir, 'effects.log');
  const env = { SLIPWAY_DATA: dataDir, SLIPWAY_DATABASE_URL: databaseUrl, EFFECTS_FILE: effects, LEASE_MS: String(leaseMs), STEP_MS: '60000' };
  const admin = await createSlipway({ dataDir, databaseUrl }, { runEngine: false });
  const a = await engineProcess({ ...env, WORKER_ID: 'engine-a' });
  const b = await engineProcess({ ...env, WORKER_ID: 'engine-b' });
  try {
    await startExecution(admin.rt, await seedPipeline(admin, { options: { approval: false } }), { user: 'bench' });
    const lines = () => (existsSync(effects) ? readFileSync(effects, 'utf8').trim().split('\n') : []);
    const first = await until(() => lines().find((l) => l.startsWith('start ')), 30_000);
    if (!first) return undefined;
    const [, stepId, pid] = first.split(' ');
    const victim = Number(pid) === a.pid ? a : b;
    const survivor = victim === a ? b : a;
    const killedAt = performance.now();
    victim.kill('SIGKILL');
    const taken = await until(() => lines().find((l) => l === `start ${stepId} ${survivor.pid}`), leaseMs * 5 + 10_000);
    return taken ? performance.now() - killedAt : undefined;
  } finally {
    a.kill('SIGKILL');
    b.kill('SIGKILL');
    await admin.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function run(): Promise<void> {
  const pg = await startPostgres();
  try {
    console.log('takeover: engine running a step killed (SIGKILL) → the other engine starts that step');
    for (const leaseMs of [1000, 3000, 10_000]) {
      const samples: number[] = [];
      for (let i = 0; i < 3; i++) {
        const ms = await takeover(pg.url, leaseMs);
        if (ms !== undefined) samples.push(ms);
      }
      const shown = samples.map((ms) => `${ms.toFixed(0)} ms`).join(', ') || 'no takeover seen';
      console.log(`  lease ${leaseMs} ms: ${shown}`);
    }
  } finally {
    pg.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
