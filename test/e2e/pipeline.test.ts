// The whole production pipeline with the shipped handlers, on real parts: the sample site in
// a git repository, builds in bubblewrap, a stage and a prod topology of app processes,
// Varnish and HAProxy, Chromium for UI tests and Lighthouse. A new commit reaches production,
// re-execute puts the same artifacts back, and a broken release is rolled back on stage.
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

  it('a new commit reaches production, and re-execute puts the same artifacts back', async () => {
    const first = await startExecution(slipway.rt, pipeline, { user: 'e2e' });
    const firstWaiting = await until(first.id, (e) => e.status !== 'RUNNING' || e.steps.some((s) => s.action === 'approval' && s.status === 'WAITING'));
    expect(firstWaiting.status, summary(firstWaiting)).toBe('RUNNING');
    const approvalIndex = firstWaiting.steps.findIndex((y) => y.action === 'approval');
    for (const s of firstWaiting.steps.slice(0, approvalIndex)) expect(['FINISHED', 'INCOMPLETE'], summary(firstWaiting)).toContain(s.status);
    expect(firstWaiting.steps.find((s) => s.action === 'contentAudit')!.metrics.map((m) => m.kpi).sort())
      .toEqual(['accessibility', 'best-practices', 'performance', 'seo']);
    expect(firstWaiting.steps.find((s) => s.action === 'build')!.details.commitId).toMatch(/^[0-9a-f]{40}$/);
    await advanceStep(slipway.rt, firstWaiting.steps.find((s) => s.action === 'approval')!.id, { approved: true }, 'e2e');
    const firstDone = await until(first.id, (e) => e.status !== 'RUNNING');
    expect(firstDone.status, summary(firstDone)).toBe('FINISHED');
    const firstVersion = await prodVersion();
    expect(firstVersion).toBe(firstDone.artifactsVersion);

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
    // The re-execution deployed the release prod already ran all over again: every pair cycled.
    const againDeploy = againDone.steps.find((s) => s.action === 'deploy')!;
    const prod = await slipway.driver.describe((await getEnvironment(slipway.rt.db.kysely, environments[1]!.id))!);
    const rollout = againDeploy.details.rollout as { done: { author: boolean; pairs: number[] }; commands: { node: string; action: string; status: string }[] };
    expect(rollout.done).toEqual({ author: true, pairs: prod.dispatchers.map((_, i) => i) });
    expect(rollout.commands.filter((c) => c.action === 'attach' && c.status === 'FINISHED').map((c) => c.node))
      .toEqual(prod.dispatchers.map((d) => d.name));
    expect((JSON.parse(againDeploy.details.deployCommands as string) as unknown[]).length).toBeGreaterThan(0);
    expect(againDeploy.details.environmentUrls).toEqual([
      { instanceType: 'publish', instanceUrl: prod.loadBalancer.url }, { instanceType: 'author', instanceUrl: prod.author.url },
    ]);
  }, 400_000);

  it('a release that fails its health check is rolled back on stage: ROLLED_BACK, execution FAILED', async () => {
    await commitChange(repoUrl, 'brokenHealth');
    const statuses: string[] = [];
    const unsubscribe = slipway.rt.bus.subscribe((e) => {
      if ('action' in e && e.action === 'deploy') statuses.push(e.status);
    });
    const started = await startExecution(slipway.rt, pipeline, { user: 'e2e' });
    const done = await until(started.id, (e) => e.status !== 'RUNNING');
    unsubscribe();
    const stageDeploy = done.steps.find((s) => s.action === 'deploy' && s.environmentType === 'stage')!;
    expect(done.status, summary(done)).toBe('FAILED');
    expect(stageDeploy.status).toBe('ROLLED_BACK');
    expect(stageDeploy.reason).toMatch(/health/);
    expect(statuses).toContain('ROLLING_BACK');
    // Stage still serves the previous release from every pair.
    const stage = await slipway.driver.describe((await getEnvironment(slipway.rt.db.kysely, environments[0]!.id))!);
    expect(new Set(stage.publish.map((n) => n.release?.version)).size).toBe(1);
    expect(stage.publish[0]?.release?.version).not.toBe(done.artifactsVersion);
    expect((await fetch(`${stage.loadBalancer.url}/`)).status).toBe(200);
  }, 300_000);
});
