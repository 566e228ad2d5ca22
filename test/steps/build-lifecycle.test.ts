// The build starts its sandbox before the checkout (the sandbox's own start overlaps it). A
// checkout that fails or is cancelled while the sandbox waits must leave nothing of it behind:
// no pasta or bubblewrap process, no run cgroup. The remote is a real HTTP server on 127.0.0.1
// that holds git's request until the sandbox is seen waiting, so the sandbox has surely started.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildHandler, StepCancelledError } from '../../src/steps/build.ts';
import { AWAIT_COMMAND } from '../../src/runner/sandbox-command.ts';
import { eventually } from '../support/eventually.ts';
import { ownRunCgroups, processesMentioning } from '../support/run-processes.ts';
import { makeStepContext } from '../support/step-context.ts';

const held: ServerResponse[] = [];
const sockets = new Set<Socket>();
let server: Server;
let url: string;
const allowed = process.env.SLIPWAY_ALLOWED_GIT_HOSTS;

beforeAll(async () => {
  // Loopback remotes are refused unless an administrator allows them (here: the test's server).
  process.env.SLIPWAY_ALLOWED_GIT_HOSTS = '127.0.0.1';
  server = createServer((_req, res) => { held.push(res); });
  server.on('connection', (s: Socket) => sockets.add(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/site.git`;
});
afterEach(() => { for (const res of held.splice(0)) res.destroy(); });
afterAll(async () => {
  if (allowed === undefined) delete process.env.SLIPWAY_ALLOWED_GIT_HOSTS;
  else process.env.SLIPWAY_ALLOWED_GIT_HOSTS = allowed;
  for (const s of sockets) s.destroy();
  await new Promise((r) => server.close(r));
});

/** The step's sandbox processes (their arguments or environment name the step's work dir). */
const sandboxOf = (workDir: string): string[] => processesMentioning(workDir);

describe('the build step and its early-started sandbox', () => {
  it('a checkout that fails while the sandbox waits: the step fails, nothing of the sandbox is left', async () => {
    const ctx = makeStepContext();
    ctx.repository.url = url;
    try {
      const step = buildHandler.run(ctx);
      await eventually(() => held.length > 0 && sandboxOf(ctx.workDir).some((p) => p.includes(AWAIT_COMMAND)), 15_000, 'git waiting and the sandbox waiting');
      for (const res of held.splice(0)) { res.writeHead(404); res.end(); }
      const result = await step;
      expect(result.outcome).toBe('failed');
      expect(result.outcome === 'failed' ? result.reason : '').toMatch(/checkout of branch main failed/);
      expect(sandboxOf(ctx.workDir)).toEqual([]);
      expect(ownRunCgroups()).toEqual([]);
    } finally {
      ctx.cleanup();
    }
  });

  it('cancelled during the checkout: the step ends cancelled, nothing of the sandbox or of git is left', async () => {
    const controller = new AbortController();
    const ctx = makeStepContext({ signal: controller.signal });
    ctx.repository.url = url;
    try {
      const step = buildHandler.run(ctx);
      step.catch(() => undefined); // awaited below
      await eventually(() => held.length > 0 && sandboxOf(ctx.workDir).some((p) => p.includes(AWAIT_COMMAND)), 15_000, 'git waiting and the sandbox waiting');
      controller.abort();
      await expect(step).rejects.toBeInstanceOf(StepCancelledError);
      expect(sandboxOf(ctx.workDir)).toEqual([]);
      expect(processesMentioning(url)).toEqual([]);
      expect(ownRunCgroups()).toEqual([]);
    } finally {
      ctx.cleanup();
    }
  });
});
