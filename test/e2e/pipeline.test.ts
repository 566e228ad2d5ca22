// The whole production pipeline with the shipped handlers, on real parts: the sample site in
// a git repository, builds in bubblewrap, a stage and a prod topology of app processes,
// Varnish and HAProxy, Chromium for UI tests and Lighthouse. Approve, and prod serves it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSlipway, type Slipway } from '../../src/app.ts';
import { advanceStep, reExecute, startExecution } from '../../src/engine/commands.ts';
import type { Environment, Execution, Pipeline } from '../../src/domain/model.ts';
import { createEnvironment, getEnvironment, updateEnvironment } from '../../src/store/environments.ts';
import { getExecution } from '../../src/store/executions.ts';
import { createPipeline } from '../../src/store/pipelines.ts';
import { createProgram, createRepository } from '../../src/store/programs.ts';
import { commitChange, makeSampleRepo } from '../support/sample-repo.ts';
import { eventually } from '../support/slipway.ts';

describe('production pipeline, end to end', () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-e2e-'));
  let slipway: Slipway;
  let pipeline: Pipeline;
  const environments: Environment[] = [];
  let repoUrl: string;

  beforeAll(async () => {
    const repo = await makeSampleRepo(join(dir, 'repo'));
    repoUrl = repo.url;
    slipway = await createSlipway({ dataDir: join(dir, 'data') });
    const db = slipway.rt.db.kysely;
    const program = await createProgram(db, { name: 'Demo' });
    const repository = await createRepository(db, program.id, { name: 'sample-site', url: repo.url });
    for (const type of ['stage', 'prod'] as const) {
      const env = await createEnvironment(db, program.id, { name: type, type, publishCount: 2 });
      const topology = await slipway.driver.provision(env);
      await updateEnvironment(db, env.id, { status: 'ready', settings: { ...env.settings, topology } });
      environments.push((await getEnvironment(db, env.id))!);
    }
    pipeline = await createPipeline(db, {
      programId: program.id, name: 'Production', type: 'fullStack', trigger: 'MANUAL', repositoryId: repository.id,
      branch: 'main', environments: { stage: environments[0]!.id, prod: environments[1]!.id },
      options: { approval: true, auditPaths: ['/'], auditRuns: 1 },
    });
  }, 120_000);

  afterAll(async () => {
    for (const env of environments) await slipway?.driver.destroy(env).catch(() => undefined);
    await slipway?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const reload = async (id: string) => (await getExecution(slipway.rt.db.kysely, id))!;
  const until = (id: string, check: (e: Execution) => boolean, ms = 240_000) =>
    eventually(async () => { const e = await reload(id); return check(e) && e; }, ms);
  const summary = (e: Execution) => e.steps.map((s) => `${s.action}${s.environmentType ? `:${s.environmentType}` : ''}=${s.status}${s.reason ? ` (${s.reason})` : ''}`).join('\n');
  const prodVersion = async () => {
    const view = await slipway.driver.describe((await getEnvironment(slipway.rt.db.kysely, environments[1]!.id))!);
    const res = await fetch(`${view.loadBalancer.url}/`);
    return res.headers.get('x-app-version');
  };

  it('builds, tests on stage, waits for approval, and rolls onto production', async () => {
    const started = await startExecution(slipway.rt, pipeline, { user: 'e2e' });
    const waiting = await until(started.id, (e) => e.status !== 'RUNNING' || e.steps.some((s) => s.action === 'approval' && s.status === 'WAITING'));
    expect(waiting.status, summary(waiting)).toBe('RUNNING');
    for (const s of waiting.steps.filter((x) => x.index < waiting.steps.findIndex((y) => y.action === 'approval'))) {
      expect(['FINISHED', 'INCOMPLETE'], summary(waiting)).toContain(s.status);
    }
    const audit = waiting.steps.find((s) => s.action === 'contentAudit')!;
    expect(audit.metrics.map((m) => m.kpi).sort()).toEqual(['accessibility', 'best-practices', 'performance', 'seo']);
    const build = waiting.steps.find((s) => s.action === 'build')!;
    expect(build.details.commitId).toMatch(/^[0-9a-f]{40}$/);

    const approval = waiting.steps.find((s) => s.action === 'approval')!;
    await advanceStep(slipway.rt, approval.id, { approved: true }, 'e2e');
    const done = await until(started.id, (e) => e.status !== 'RUNNING');
    expect(done.status, summary(done)).toBe('FINISHED');
    expect(await prodVersion()).toBe(done.artifactsVersion ?? expect.any(String));
  }, 300_000);

  it('a new commit reaches production, and re-execute puts the same artifacts back', async () => {
    const first = (await reload(String(Number((await startExecution(slipway.rt, pipeline, { user: 'e2e' })).id))));
    // Cancel is not needed: approve as soon as it waits.
    const firstWaiting = await until(first.id, (e) => e.status !== 'RUNNING' || e.steps.some((s) => s.action === 'approval' && s.status === 'WAITING'));
    await advanceStep(slipway.rt, firstWaiting.steps.find((s) => s.action === 'approval')!.id, { approved: true }, 'e2e');
    const firstDone = await until(first.id, (e) => e.status !== 'RUNNING');
    expect(firstDone.status, summary(firstDone)).toBe('FINISHED');
    const firstVersion = await prodVersion();

    await commitChange(repoUrl, 'newVersion');
    const second = await startExecution(slipway.rt, pipeline, { user: 'e2e' });
    const secondWaiting = await until(second.id, (e) => e.status !== 'RUNNING' || e.steps.some((s) => s.action === 'approval' && s.status === 'WAITING'));
    await advanceStep(slipway.rt, secondWaiting.steps.find((s) => s.action === 'approval')!.id, { approved: true }, 'e2e');
    const secondDone = await until(second.id, (e) => e.status !== 'RUNNING');
    expect(secondDone.status, summary(secondDone)).toBe('FINISHED');
    expect(await prodVersion()).not.toBe(firstVersion);

    const prodDeploy = secondDone.steps.find((s) => s.action === 'deploy' && s.environmentType === 'prod')!;
    const again = await reExecute(slipway.rt, pipeline.id, prodDeploy.id, 'e2e');
    const againDone = await until(again.id, (e) => e.status !== 'RUNNING');
    expect(againDone.status, summary(againDone)).toBe('FINISHED');
    expect(againDone.artifactsVersion).toBe(secondDone.artifactsVersion);
  }, 400_000);
});
