// Cancelling every kind of step with the shipped handlers, on real parts (the sample site,
// builds and tests in the sandbox, a real stage topology, Chromium for UI tests and Lighthouse):
// just after it started, mid-way, and as it finishes. Whatever the moment, the execution ends CANCELLED, no
// process of the step is left, and Slipway goes on (the next execution runs to its end).
import { readdirSync, readFileSync, readlinkSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSlipway, type Slipway } from '../../src/app.ts';
import { cancelExecution, startExecution } from '../../src/engine/commands.ts';
import type { Environment, Execution, Pipeline, StepAction } from '../../src/domain/model.ts';
import { createEnvironment, getEnvironment, updateEnvironment } from '../../src/store/environments.ts';
import { getExecution } from '../../src/store/executions.ts';
import { createPipeline } from '../../src/store/pipelines.ts';
import { createProgram, createRepository } from '../../src/store/programs.ts';
import { makeSampleRepo } from '../support/sample-repo.ts';
import { eventually } from '../support/slipway.ts';

/** Live processes whose command line or working directory lies under `dir`. */
function processesUnder(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3))) continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      const cwd = readlinkSync(`/proc/${entry}/cwd`);
      if (cmdline.includes(dir) || cwd.startsWith(dir)) found.push(`${entry}: ${cmdline.slice(0, 120)}`);
    } catch { /* gone meanwhile */ }
  }
  return found;
}

const ACTIONS: StepAction[] = ['build', 'codeQuality', 'buildImage', 'deploy', 'productTest', 'functionalTest', 'uiTest', 'contentAudit'];
/**
 * Each test runs the pipeline from its start to the step it cancels (contentAudit: builds, a
 * deploy, Chromium's UI tests first): minutes on a slow 2-core machine, as `until` allows.
 */
const STEP_TIMEOUT_MS = 240_000;
/** When to cancel: once the step runs (then after `afterMs`), or the moment it has finished (the hand-off to the next step). */
const MOMENTS = [
  { name: 'just started', at: 'running', afterMs: 0 },
  { name: 'mid-way', at: 'running', afterMs: 700 },
  { name: 'as it finishes', at: 'ended', afterMs: 0 },
] as const;

describe('cancelling every kind of step', () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-cancel-'));
  let slipway: Slipway;
  let pipeline: Pipeline;
  let stage: Environment;

  beforeAll(async () => {
    const repo = await makeSampleRepo(join(dir, 'repo'));
    slipway = await createSlipway({ dataDir: join(dir, 'data') });
    const db = slipway.rt.db.kysely;
    const program = await createProgram(db, { name: 'Cancel' });
    const repository = await createRepository(db, program.id, { name: 'sample-site', url: repo.url });
    const envs: Environment[] = [];
    for (const [type, publishCount] of [['stage', 1], ['prod', 2]] as const) {
      const env = await createEnvironment(db, program.id, { name: type, type, publishCount });
      // Production is never reached here (approval waits): only stage gets nodes.
      const topology = type === 'stage' ? await slipway.driver.provision(env) : undefined;
      await updateEnvironment(db, env.id, { status: 'ready', settings: { ...env.settings, ...(topology ? { topology } : {}) } });
      envs.push((await getEnvironment(db, env.id))!);
    }
    stage = envs[0]!;
    pipeline = await createPipeline(db, {
      programId: program.id, name: 'Production', type: 'fullStack', trigger: 'MANUAL', repositoryId: repository.id,
      branch: 'main', environments: { stage: envs[0]!.id, prod: envs[1]!.id },
      options: { approval: true, auditPaths: ['/'], auditRuns: 1 },
    });
  }, 120_000);

  afterAll(async () => {
    await slipway?.driver.destroy(stage).catch(() => undefined);
    await slipway?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const reload = async (id: string) => (await getExecution(slipway.rt.db.kysely, id))!;
  const until = (id: string, check: (e: Execution) => boolean, ms = 180_000) =>
    eventually(async () => { const e = await reload(id); return check(e) && e; }, ms);

  for (const action of ACTIONS) {
    for (const moment of MOMENTS) {
      it(`${action}, ${moment.name}: the execution ends CANCELLED and nothing of the step is left`, async () => {
        const started = await startExecution(slipway.rt, pipeline, { user: 'ada' });
        const step = (e: Execution) => e.steps.find((s) => s.action === action && s.environmentType !== 'prod')!;
        const reached = await until(started.id, (e) => e.finishedAt !== undefined
          || (moment.at === 'running' ? step(e).status === 'RUNNING' : !['NOT_STARTED', 'RUNNING'].includes(step(e).status)), 180_000);
        // An execution that ended on its way there has nothing to cancel: say where it ended, and why.
        expect(reached.finishedAt, reached.steps.map((s) => `${s.action}=${s.status} ${s.reason ?? ''}`).join('\n')).toBeUndefined();
        if (moment.afterMs) await new Promise((r) => setTimeout(r, moment.afterMs));
        await cancelExecution(slipway.rt, started.id, 'ada');
        const ended = await until(started.id, (e) => e.finishedAt !== undefined);
        expect(ended.status, ended.steps.map((s) => `${s.action}=${s.status}`).join(' ')).toBe('CANCELLED');
        expect(ended.steps.some((s) => s.status === 'RUNNING' || s.status === 'WAITING')).toBe(false);
        const work = join(slipway.config.dataDir, 'work', started.id);
        const left = await eventually(async () => processesUnder(work).length === 0 || undefined, 10_000).catch(() => processesUnder(work));
        expect(left).toBe(true);
      }, STEP_TIMEOUT_MS);
    }
  }

  it('goes on after all these cancels: the next execution reaches the go-live approval', async () => {
    const next = await startExecution(slipway.rt, pipeline, { user: 'ada' });
    const waiting = await until(next.id, (e) => e.steps.some((s) => s.action === 'approval' && s.status === 'WAITING') || e.finishedAt !== undefined);
    expect(waiting.status, waiting.steps.map((s) => `${s.action}=${s.status} ${s.reason ?? ''}`).join('\n')).toBe('RUNNING');
    expect(waiting.steps.find((s) => s.action === 'approval')?.status).toBe('WAITING');
    await cancelExecution(slipway.rt, next.id, 'ada');
    await until(next.id, (e) => e.finishedAt !== undefined);
  }, STEP_TIMEOUT_MS);
});
