// A remote that accepts and never answers (a tarpit on 127.0.0.1, allowed explicitly for this
// test) costs only its own check its timeout: the other pipelines are polled meanwhile. Without
// the administrator's permission the loopback remote is not even contacted.
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPipelineCommit, startCommitWatcher } from '../../src/triggers/commit-watcher.ts';
import { cancelExecution } from '../../src/engine/commands.ts';
import type { Pipeline } from '../../src/domain/model.ts';
import { listExecutions } from '../../src/store/executions.ts';
import { getPipeline } from '../../src/store/pipelines.ts';
import { createRepository } from '../../src/store/programs.ts';
import { pinnedResolveArgs } from '../../src/runner/repository-url.ts';
import { git } from '../../src/runner/git.ts';
import { call, commitTo, makeHarness, waitForExecution, type Harness } from './harness.ts';

let h: Harness;
let tarpit: Server;
const sockets = new Set<Socket>();
let connections = 0;
let port = 0;
let slow: Pipeline;
let fast: Pipeline;
const savedAllowed = process.env.SLIPWAY_ALLOWED_GIT_HOSTS;

async function onCommitPipeline(name: string, repositoryId: string): Promise<Pipeline> {
  const res = await call(h, 'POST', `/api/program/${h.programId}/pipelines`, {
    name, type: 'codeQuality', trigger: 'ON_COMMIT', repositoryId, branch: 'main',
  });
  expect(res.status, res.body).toBe(201);
  const pipeline = await getPipeline(h.slipway.rt.db.kysely, res.json.id as string);
  if (!pipeline) throw new Error('pipeline not stored');
  return pipeline;
}

beforeAll(async () => {
  tarpit = createServer((socket) => {
    connections += 1;
    sockets.add(socket); // accepted, read, never answered
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => tarpit.listen(0, '127.0.0.1', resolve));
  const address = tarpit.address();
  port = typeof address === 'object' && address ? address.port : 0;
  h = await makeHarness({ handlers: { buildLogMs: 10 } });
  const repo = await createRepository(h.slipway.rt.db.kysely, h.programId, { name: 'tarpit', url: `http://127.0.0.1:${port}/site.git` });
  slow = await onCommitPipeline('slow', repo.id);
  fast = await onCommitPipeline('fast', h.repositoryId);
});
afterAll(async () => {
  if (savedAllowed === undefined) delete process.env.SLIPWAY_ALLOWED_GIT_HOSTS;
  else process.env.SLIPWAY_ALLOWED_GIT_HOSTS = savedAllowed;
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => tarpit?.close(resolve));
  await h?.close();
});

describe('commit watcher and a tarpit remote', () => {
  it('pins git to the checked addresses (a name git could not resolve reaches the tarpit)', async () => {
    const before = connections;
    const url = `http://pinned.invalid:${port}/site.git`;
    await expect(git([...pinnedResolveArgs(url, ['127.0.0.1']), 'ls-remote', '--', url], { timeoutMs: 1500 })).rejects.toThrow(/timed out/);
    expect(connections).toBeGreaterThan(before);
  });

  it('refuses the loopback remote without contacting it unless an administrator allows the host', async () => {
    delete process.env.SLIPWAY_ALLOWED_GIT_HOSTS;
    const before = connections;
    const result = await checkPipelineCommit(h.slipway, slow);
    expect(result).toMatchObject({ outcome: 'error', message: expect.stringMatching(/refused.*loopback, link-local or private/) });
    expect(connections).toBe(before);
  });

  it('times the tarpit out while the other pipeline is polled, round after round', async () => {
    process.env.SLIPWAY_ALLOWED_GIT_HOSTS = '127.0.0.1';
    const lines: string[] = [];
    const slowEnded = () => lines.some((l) => l.includes('slow:'));
    const executionsOfFast = async () => (await listExecutions(h.slipway.rt.db.kysely, fast.id, 0, 10)).executions;
    const until = async <T>(get: () => Promise<T | undefined> | T | undefined): Promise<T> => {
      for (let i = 0; i < 800; i++) {
        const value = await get();
        if (value !== undefined) return value;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(`gave up waiting; log:\n${lines.join('\n')}`);
    };
    const before = connections;
    const stop = startCommitWatcher(h.slipway, { intervalMs: 100, checkTimeoutMs: 8000, log: (line) => lines.push(line) });
    try {
      const first = await until(async () => (await executionsOfFast())[0]?.id);
      // The fast pipeline did not wait for the tarpit's check, which is still going on...
      expect(slowEnded()).toBe(false);
      await cancelExecution(h.slipway.rt, first, 'test');
      await waitForExecution(h, first, (e) => e.finishedAt !== undefined);
      // ...and later rounds keep polling it: its next commit starts the next execution.
      commitTo(h.repoDir, 'moved while the tarpit holds a check');
      const second = await until(async () => { const all = await executionsOfFast(); return all.length === 2 ? all[0]?.id : undefined; });
      expect(slowEnded(), lines.join('\n')).toBe(false);
      await cancelExecution(h.slipway.rt, second, 'test');
      await waitForExecution(h, second, (e) => e.finishedAt !== undefined);

      await until(() => (slowEnded() ? true : undefined));
      expect(lines.filter((l) => l.includes('slow:'))[0]).toMatch(/git ls-remote failed \(killed\): timed out after 8 s/);
      expect(connections).toBeGreaterThan(before);
    } finally {
      await stop();
    }
    expect((await listExecutions(h.slipway.rt.db.kysely, slow.id, 0, 1)).executions).toHaveLength(0);
  });
});
