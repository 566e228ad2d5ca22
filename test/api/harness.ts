// API test harness: a real Slipway (SQLite in a temp data dir, or PostgreSQL, engine running TEST handlers,
// RecordingDriver) behind buildServer, seeded with a program, a real git repository, ready
// stage/prod/dev environments and pipelines; plus helpers to wait for execution states.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { createSlipway, type Slipway } from '../../src/app.ts';
import { buildServer } from '../../src/api/server.ts';
import type { Execution, Pipeline, PipelineOptions, StepStatus } from '../../src/domain/model.ts';
import { createEnvironment, updateEnvironment } from '../../src/store/environments.ts';
import { getExecution } from '../../src/store/executions.ts';
import { createPipeline } from '../../src/store/pipelines.ts';
import { createProgram, createRepository } from '../../src/store/programs.ts';
import { RecordingDriver } from '../support/recording-driver.ts';
import { testHandlers, type TestHandlerOptions } from '../support/test-handlers.ts';
import { eventually } from '../support/eventually.ts';
import { createDatabase } from '../support/postgres.ts';
import type { Backend } from '../support/slipway.ts';
import { inject } from 'vitest';

export const ADMIN_TOKEN = 'slw_test_admin_token_0123456789';

export interface Harness {
  dir: string;
  slipway: Slipway;
  app: FastifyInstance;
  driver: RecordingDriver;
  repoDir: string;
  programId: string;
  repositoryId: string;
  env: { dev: string; stage: string; prod: string };
  /** fullStack pipeline (approval on). */
  fullStack: Pipeline;
  /** codeQuality-only pipeline. */
  codeQuality: Pipeline;
  close(): Promise<void>;
}

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, {
  cwd, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cwd, GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@x', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@x' },
}).toString();

export function makeGitRepo(dir: string): string {
  git(dir, 'init', '--quiet', '--initial-branch=main');
  writeFileSync(join(dir, 'README.md'), 'hello\n');
  git(dir, 'add', '.');
  git(dir, 'commit', '--quiet', '-m', 'first');
  return git(dir, 'rev-parse', 'HEAD').trim();
}

export function commitTo(dir: string, text: string): string {
  writeFileSync(join(dir, 'README.md'), `${text}\n`);
  git(dir, 'commit', '--quiet', '-am', text);
  return git(dir, 'rev-parse', 'HEAD').trim();
}

export async function makeHarness(opts: {
  handlers?: TestHandlerOptions; options?: Partial<PipelineOptions>; signingKey?: string;
  /** The store: SQLite (default) or a fresh PostgreSQL database. */
  backend?: Backend;
} = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-api-'));
  const databaseUrl = opts.backend === 'postgres' ? await createDatabase(inject('pgAdminUrl')) : undefined;
  const repoDir = join(dir, 'repo');
  execFileSync('mkdir', ['-p', repoDir]);
  makeGitRepo(repoDir);
  const driver = new RecordingDriver();
  const slipway = await createSlipway({ dataDir: join(dir, 'data'), databaseUrl }, { handlers: testHandlers(opts.handlers), driver, leaseMs: 5000 });
  const app = await buildServer(slipway, { adminToken: ADMIN_TOKEN, ...(opts.signingKey ? { logSigningKey: opts.signingKey } : {}) });
  const db = slipway.rt.db.kysely;
  const program = await createProgram(db, { name: 'Test program' });
  const repo = await createRepository(db, program.id, { name: 'site', url: repoDir, description: 'test repo' });
  const env: Record<string, string> = {};
  for (const type of ['dev', 'stage', 'prod'] as const) {
    const e = await createEnvironment(db, program.id, { name: `site-${type}`, type });
    await updateEnvironment(db, e.id, { status: 'ready' });
    env[type] = e.id;
  }
  const options = { approval: true, uiTests: false, ...opts.options };
  const fullStack = await createPipeline(db, {
    programId: program.id, name: 'prod', type: 'fullStack', trigger: 'MANUAL', repositoryId: repo.id, branch: 'main',
    environments: { stage: env.stage as string, prod: env.prod as string }, options,
  });
  const codeQuality = await createPipeline(db, {
    programId: program.id, name: 'quality', type: 'codeQuality', trigger: 'MANUAL', repositoryId: repo.id, branch: 'main', environments: {},
  });
  return {
    dir, slipway, app, driver, repoDir, programId: program.id, repositoryId: repo.id,
    env: env as Harness['env'], fullStack, codeQuality,
    async close() {
      await app.close();
      await slipway.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const bearer = (token = ADMIN_TOKEN) => ({ authorization: `Bearer ${token}` });

export async function call(h: Harness, method: InjectOptions['method'], url: string, body?: unknown, token = ADMIN_TOKEN, headers: Record<string, string> = {}) {
  const res = await h.app.inject({
    method, url, headers: { ...bearer(token), accept: 'application/json', ...headers },
    ...(body !== undefined ? { payload: body as InjectOptions['payload'] } : {}),
  });
  let json: unknown;
  try {
    json = res.body ? JSON.parse(res.body) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers: res.headers, body: res.body, json: json as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Polls the store until `pred` holds for the execution (or throws after `timeoutMs`). */
export async function waitForExecution(h: Harness, id: string, pred: (e: Execution) => boolean, timeoutMs = 20_000): Promise<Execution> {
  let last: Execution | undefined;
  return eventually(async () => {
    last = await getExecution(h.slipway.rt.db.kysely, id);
    return last && pred(last) && last;
  }, timeoutMs, () => `execution ${id} to reach the state; now ${JSON.stringify(last?.steps.map((s) => [s.action, s.status]))} ${last?.status}`);
}

export const stepIs = (action: string, status: StepStatus) => (e: Execution) =>
  e.steps.some((s) => s.action === action && s.status === status);

export async function addMember(h: Harness, user: string, role: string): Promise<string> {
  const res = await call(h, 'POST', `/api/program/${h.programId}/members`, { user, role });
  if (res.status !== 201) throw new Error(`members: ${res.status} ${res.body}`);
  return res.json.token as string;
}
