// ON_COMMIT: the poller starts a pipeline when its branch moves (real git repository, real
// `git ls-remote`), and the push hook does the same check on demand.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCommitWatcher } from '../../src/triggers/commit-watcher.ts';
import { cancelExecution } from '../../src/engine/commands.ts';
import { listExecutions } from '../../src/store/executions.ts';
import { getLastCommit } from '../../src/store/pipelines.ts';
import { call, commitTo, makeHarness, waitForExecution, type Harness } from './harness.ts';
import { eventually } from '../support/eventually.ts';

let h: Harness;
let pipelineId: string;

beforeAll(async () => {
  h = await makeHarness({ handlers: { buildLogMs: 10 } });
  const created = await call(h, 'POST', `/api/program/${h.programId}/pipelines`, {
    name: 'on commit', type: 'codeQuality', trigger: 'ON_COMMIT', repositoryId: h.repositoryId, branch: 'main',
  });
  expect(created.status).toBe(201);
  pipelineId = created.json.id as string;
});
afterAll(async () => {
  await h?.close();
});

async function executionsOf(): Promise<{ id: string; trigger: string }[]> {
  return (await listExecutions(h.slipway.rt.db.kysely, pipelineId, 0, 100)).executions;
}

async function finish(id: string): Promise<void> {
  await cancelExecution(h.slipway.rt, id, 'test');
  await waitForExecution(h, id, (e) => e.finishedAt !== undefined);
}

describe('commit watcher', () => {
  it('starts ON_COMMIT pipelines when the branch moves, and only then', async () => {
    const stop = startCommitWatcher(h.slipway, { intervalMs: 100 });
    try {
      const first = await eventually(async () => (await executionsOf())[0], 20_000);
      expect(first.trigger).toBe('ON_COMMIT');
      await finish(first.id);
      await new Promise((r) => setTimeout(r, 400)); // several polls, no new commit
      expect(await executionsOf()).toHaveLength(1);
      const commit = commitTo(h.repoDir, 'second');
      const second = await eventually(async () => ((await executionsOf()).length === 2 ? (await executionsOf())[0] : undefined), 20_000);
      expect(second.trigger).toBe('ON_COMMIT');
      expect(await getLastCommit(h.slipway.rt.db.kysely, pipelineId)).toBe(commit);
      await finish(second.id);
    } finally {
      await stop();
    }
  });

  it('the push hook starts the pipeline whose commit moved', async () => {
    commitTo(h.repoDir, 'third');
    const hook = await call(h, 'POST', '/api/hooks/push', { repositoryUrl: h.repoDir, branch: 'refs/heads/main' });
    expect(hook.status).toBe(202);
    expect(hook.json.pipelines).toEqual([expect.objectContaining({ pipelineId, outcome: 'started' })]);
    const again = await call(h, 'POST', '/api/hooks/push', { repositoryId: h.repositoryId, branch: 'main' });
    expect(again.json.pipelines[0].outcome).toBe('unchanged');
    expect((await call(h, 'POST', '/api/hooks/push', { branch: 'main' })).status).toBe(400);
    expect((await h.app.inject({ method: 'POST', url: '/api/hooks/push', payload: { repositoryId: '1', branch: 'main' } })).statusCode).toBe(401);
    await finish(hook.json.pipelines[0].executionId as string);
  });
});
