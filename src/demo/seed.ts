// The demo: program "Demo" with the sample site as a local git repository, a stage and a prod
// environment provisioned by the topology driver, and a production pipeline. Idempotent:
// everything is looked up by name first, so running it again keeps the data and adds nothing.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { Slipway } from '../app.ts';
import type { Environment, EnvironmentType, Pipeline, PipelineOptions } from '../domain/model.ts';
import { createEnvironment, deleteEnvironment, provisionEnvironment } from '../engine/environments.ts';
import { listEnvironments } from '../store/environments.ts';
import { createPipeline, listPipelines } from '../store/pipelines.ts';
import { createProgram, createRepository, listPrograms, listRepositories } from '../store/programs.ts';

const run = promisify(execFile);

export const DEMO_PROGRAM = 'Demo';
export const DEMO_PIPELINE = 'Production';
export const SAMPLE_SITE_DIR = fileURLToPath(new URL('../../examples/sample-site', import.meta.url));

/** Demo pipeline options: approval on, two audited pages, one Lighthouse run each (speed). */
export const DEMO_OPTIONS: Partial<PipelineOptions> = { approval: true, auditPaths: ['/', '/about.html'], auditRuns: 1 };

/** Build outputs and local results that never belong in the repository. */
const EXCLUDED = new Set(['node_modules', 'reports', 'coverage', 'dist', '.git']);

export interface DemoSeed {
  programId: string;
  repositoryId: string;
  repositoryUrl: string;
  environments: Record<'stage' | 'prod', Environment>;
  pipeline: Pipeline;
  /** False when everything already existed. */
  created: boolean;
}

export interface SeedOptions {
  sampleDir?: string;
  log?: (line: string) => void;
}

const GIT_ENV: NodeJS.ProcessEnv = {
  PATH: process.env.PATH, HOME: tmpdir(), LANG: 'C', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_TERMINAL_PROMPT: '0', GIT_AUTHOR_NAME: 'Slipway Demo', GIT_AUTHOR_EMAIL: 'demo@slipway.invalid',
  GIT_COMMITTER_NAME: 'Slipway Demo', GIT_COMMITTER_EMAIL: 'demo@slipway.invalid',
};

const git = (cwd: string, args: string[]) => run('git', args, { cwd, env: GIT_ENV });

/** `<dataDir>/repos/sample-site.git`: a bare repository whose first commit is the sample site. */
export async function ensureSampleRepository(dataDir: string, sampleDir = SAMPLE_SITE_DIR): Promise<string> {
  const bare = join(dataDir, 'repos', 'sample-site.git');
  if (existsSync(join(bare, 'HEAD'))) return pathToFileURL(bare).href;
  const scratch = await mkdtemp(join(tmpdir(), 'slipway-demo-repo-'));
  try {
    const work = join(scratch, 'sample-site');
    await cp(sampleDir, work, { recursive: true, filter: (src) => src === sampleDir || !EXCLUDED.has(basename(src)) });
    await git(work, ['init', '--quiet', '--initial-branch=main']);
    await git(work, ['add', '--all']);
    await git(work, ['commit', '--quiet', '--no-gpg-sign', '-m', 'Sample site']);
    await mkdir(join(dataDir, 'repos'), { recursive: true });
    await git(scratch, ['clone', '--quiet', '--bare', work, bare]);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return pathToFileURL(bare).href;
}

async function ensureEnvironment(slipway: Slipway, programId: string, type: EnvironmentType, options: SeedOptions): Promise<{ env: Environment; created: boolean }> {
  const { rt, driver } = slipway;
  let env = (await listEnvironments(rt.db.kysely, programId, type)).find((e) => e.name === type);
  // A failed environment may be half made: it goes, and is made anew.
  if (env?.status === 'failed') {
    await deleteEnvironment(rt, driver, env.id);
    env = undefined;
  }
  const created = !env;
  // On containers wherever podman works (the default driver), else on local processes.
  const driverName = await driver.choice?.defaultName();
  env ??= await createEnvironment(rt, {
    programId, name: type, type, description: `Demo ${type}`, publishCount: 2, ...(driverName ? { driver: driverName } : {}),
  });
  if (env.status === 'creating') {
    options.log?.(`provisioning the ${type} environment (author, 2 publish, 2 dispatchers, load balancer)…`);
    env = await provisionEnvironment(rt, driver, env);
  }
  return { env, created };
}

export async function seedDemo(slipway: Slipway, options: SeedOptions = {}): Promise<DemoSeed> {
  const db = slipway.rt.db.kysely;
  let created = false;
  let program = (await listPrograms(db)).find((p) => p.name === DEMO_PROGRAM);
  if (!program) {
    program = await createProgram(db, { name: DEMO_PROGRAM });
    created = true;
  }
  const repositoryUrl = await ensureSampleRepository(slipway.config.dataDir, options.sampleDir);
  let repository = (await listRepositories(db, program.id)).find((r) => r.name === 'sample-site');
  if (!repository) {
    repository = await createRepository(db, program.id, { name: 'sample-site', url: repositoryUrl, description: 'The Slipway sample site' });
    created = true;
  }
  const stage = await ensureEnvironment(slipway, program.id, 'stage', options);
  const prod = await ensureEnvironment(slipway, program.id, 'prod', options);
  created ||= stage.created || prod.created;
  let pipeline = (await listPipelines(db, program.id)).find((p) => p.name === DEMO_PIPELINE);
  if (!pipeline) {
    pipeline = await createPipeline(db, {
      programId: program.id, name: DEMO_PIPELINE, type: 'fullStack', trigger: 'MANUAL', repositoryId: repository.id,
      branch: 'main', environments: { stage: stage.env.id, prod: prod.env.id }, options: DEMO_OPTIONS,
    });
    created = true;
  }
  return {
    programId: program.id, repositoryId: repository.id, repositoryUrl,
    environments: { stage: stage.env, prod: prod.env }, pipeline, created,
  };
}
