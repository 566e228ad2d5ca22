// The validate step on a real git repository: it passes for ready targets, and fails naming the
// environment when production has a single publish/dispatcher pair (no rolling without downtime).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Environment, EnvironmentType } from '../../src/domain/model.ts';
import { makeValidateHandler } from '../../src/steps/validate.ts';
import { testHandlers } from '../support/engine-handlers.ts';
import { makeStepContext, type TestStepContext } from '../support/step-context.ts';

let root: string;
const contexts: TestStepContext[] = [];

function env(id: string, type: EnvironmentType, publishCount: number): Environment {
  return {
    id, programId: '7', name: `site-${type}-${publishCount}`, description: '', type, status: 'ready', region: 'local',
    settings: { publishCount }, createdAt: new Date(0), updatedAt: new Date(0),
  };
}
const ENVIRONMENTS = [env('21', 'stage', 1), env('22', 'prod', 2), env('23', 'prod', 1)];

async function validate(prodId: string) {
  const handler = makeValidateHandler({
    handlers: () => testHandlers(),
    environment: async (id) => ENVIRONMENTS.find((e) => e.id === id),
  });
  const ctx = makeStepContext();
  contexts.push(ctx);
  ctx.repository.url = `file://${root}`;
  ctx.pipeline.environments = { stage: '21', prod: prodId };
  return { ctx, result: await handler.run(ctx) };
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'slipway-validate-'));
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@x', ...args], { cwd: root });
  git('init', '--quiet', '--initial-branch=main');
  writeFileSync(join(root, 'README.md'), 'hello\n');
  git('add', '.');
  git('commit', '--quiet', '-m', 'first');
});
afterAll(() => {
  for (const ctx of contexts) ctx.cleanup();
  rmSync(root, { recursive: true, force: true });
});

describe('validate step', () => {
  it('passes with ready targets and production on two pairs (a one-pair stage is fine)', async () => {
    const { ctx, result } = await validate('22');
    expect(result, ctx.log.text()).toMatchObject({ outcome: 'finished', details: { commitId: expect.stringMatching(/^[0-9a-f]{40}$/) } });
    expect(ctx.log.text()).toContain('environment site-prod-2 (prod) is ready');
  });

  it('fails naming the production environment that has a single publish/dispatcher pair', async () => {
    const { ctx, result } = await validate('23');
    expect(result).toMatchObject({ outcome: 'failed', reason: expect.stringContaining('site-prod-1 has 1 publish/dispatcher pair') });
    expect(ctx.log.text()).toMatch(/✗ production environment site-prod-1 .* at least 2/);
  });

});
