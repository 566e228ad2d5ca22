// API bench: GET of an execution with 16 steps at 32 concurrent connections for 10 s
// (autocannon against a real listening Slipway on 127.0.0.1), beside a bare Fastify route that
// returns the same JSON, in the same run. Goal: p99 ≤ 10 ms, throughput ≥ 0.8× bare.
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { createSlipway } from '../src/app.ts';
import { buildServer } from '../src/api/server.ts';
import type { StepSpec } from '../src/domain/layout.ts';
import { createEnvironment, updateEnvironment } from '../src/store/environments.ts';
import { insertExecution } from '../src/store/executions.ts';
import { createPipeline } from '../src/store/pipelines.ts';
import { createProgram, createRepository } from '../src/store/programs.ts';
import { round, type Figures } from './figures.ts';

interface AutocannonResult {
  requests: { average: number };
  latency: { p99: number; average: number };
  non2xx: number;
  errors: number;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const TOKEN = 'slw_bench_admin_token_0123456789';
const CONNECTIONS = 32;
const DURATION_S = 10;

const STEPS: StepSpec[] = [
  ['stageDeployment', 'validate'], ['stageDeployment', 'build'], ['stageDeployment', 'codeQuality'], ['stageDeployment', 'buildImage'],
  ['stageDeployment', 'deploy', 'stage'], ['stageTesting', 'productTest', 'stage'], ['stageTesting', 'functionalTest', 'stage'],
  ['stageTesting', 'uiTest', 'stage'], ['stageTesting', 'contentAudit', 'stage'], ['stageTesting', 'securityTest', 'stage'],
  ['stageTesting', 'loadTest', 'stage'], ['productionDeployment', 'approval', 'prod'], ['productionDeployment', 'schedule', 'prod'],
  ['productionDeployment', 'managed', 'prod'], ['productionDeployment', 'deploy', 'prod'], ['productionDeployment', 'productTest', 'prod'],
].map(([phase, action, environmentType]) => ({ phase, action, ...(environmentType ? { environmentType } : {}) }) as StepSpec);

async function measure(url: string, headers: Record<string, string>): Promise<AutocannonResult> {
  return autocannon({ url, connections: CONNECTIONS, duration: DURATION_S, headers });
}

export async function run(): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-bench-api-'));
  const slipway = await createSlipway({ dataDir: dir }, { runEngine: false });
  const app = await buildServer(slipway, { adminToken: TOKEN });
  const bare = Fastify();
  try {
    const db = slipway.rt.db.kysely;
    const program = await createProgram(db, { name: 'bench' });
    const repo = await createRepository(db, program.id, { name: 'site', url: '/nonexistent' });
    const envs: Record<string, string> = {};
    for (const type of ['stage', 'prod'] as const) {
      const e = await createEnvironment(db, program.id, { name: `bench-${type}`, type });
      await updateEnvironment(db, e.id, { status: 'ready' });
      envs[type] = e.id;
    }
    const pipeline = await createPipeline(db, {
      programId: program.id, name: 'bench', type: 'fullStack', trigger: 'MANUAL', repositoryId: repo.id, branch: 'main', environments: envs,
    });
    const execution = await insertExecution(db, {
      programId: program.id, pipelineId: pipeline.id, pipelineType: 'fullStack', trigger: 'MANUAL', mode: 'NORMAL', user: 'bench',
      steps: STEPS, environmentIds: envs,
    }, Date.now());
    const path = `/api/program/${program.id}/pipeline/${pipeline.id}/execution/${execution.id}`;
    const headers = { authorization: `Bearer ${TOKEN}`, accept: 'application/json' };
    const sample = await app.inject({ url: path, headers });
    if (sample.statusCode !== 200) throw new Error(`bench setup: ${sample.statusCode} ${sample.body}`);
    const body = JSON.parse(sample.body) as unknown;
    bare.get('/execution', async () => body);

    const slipwayUrl = await app.listen({ port: 0, host: '127.0.0.1' });
    const bareUrl = await bare.listen({ port: 0, host: '127.0.0.1' });
    const s = await measure(`${slipwayUrl}${path}`, headers);
    const b = await measure(`${bareUrl}/execution`, headers);
    const ratio = s.requests.average / b.requests.average;
    console.log(`api: GET execution (16 steps, ${sample.rawPayload.length} bytes), ${CONNECTIONS} connections, ${DURATION_S} s`);
    console.log(`  slipway: ${s.requests.average.toFixed(0)} req/s, p99 ${s.latency.p99} ms, avg ${s.latency.average.toFixed(2)} ms, non-2xx ${s.non2xx}, errors ${s.errors}`);
    console.log(`  bare   : ${b.requests.average.toFixed(0)} req/s, p99 ${b.latency.p99} ms, avg ${b.latency.average.toFixed(2)} ms`);
    console.log(`  ratio  : ${ratio.toFixed(2)}× bare (goal ≥ 0.8), p99 goal ≤ 10 ms: ${s.latency.p99 <= 10 ? 'met' : 'NOT met'}`);
    return { requestsPerSecond: round(s.requests.average), p99Ms: s.latency.p99, ratioToBare: round(ratio) };
  } finally {
    await bare.close();
    await app.close();
    await slipway.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) await run();
