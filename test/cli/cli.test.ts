// The `slipway` client commands against a real listening Slipway: most run in-process through
// main() (same code path, captured stdout/stderr, returned exit code); a few run as real
// processes through `node --import tsx src/cli/main.ts` to check the binary and its exit codes.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/program.ts';
import { startTestServer, type TestServer } from './harness.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Run { code: number; stdout: string; stderr: string }

let server: TestServer;
let programId: string;
let pipelineId: string;

/** Runs one command line in-process with the test server's URL, token and program. */
async function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const vars = { SLIPWAY_URL: server.url, SLIPWAY_TOKEN: server.token, SLIPWAY_PROGRAM: programId, ...env };
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array) => { stdout += String(chunk); return true; }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => { stderr += String(chunk); return true; }) as typeof process.stderr.write;
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** Runs the real command as a child process. */
function binary(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: ROOT,
      timeout: 60_000,
      env: { ...process.env, SLIPWAY_URL: server.url, SLIPWAY_TOKEN: server.token, SLIPWAY_PROGRAM: programId, ...env },
    }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  server = await startTestServer({ stepMs: 30 });
  programId = server.pipeline.programId;
  pipelineId = server.pipeline.id;
});

afterAll(async () => {
  await server?.close();
});

describe('slipway CLI against a running Slipway', () => {
  it('lists programs and pipelines (table and --json)', async () => {
    const programs = await cli(['list-programs', '--json']);
    expect(programs.code).toBe(0);
    expect(JSON.parse(programs.stdout).map((p: { id: string }) => p.id)).toContain(programId);
    const pipelines = await cli(['list-pipelines']);
    expect(pipelines.code).toBe(0);
    expect(pipelines.stdout).toMatch(/ID\s+NAME/);
    expect(pipelines.stdout).toContain('Production');
  });

  it('starts an execution, refuses a second start (exit 3), waits for approval, approves, finishes', async () => {
    const started = await binary(['start-execution', pipelineId, '--json']);
    expect(started.code, started.stderr).toBe(0);
    const execution = JSON.parse(started.stdout) as { id: string; status: string; trigger: string };
    expect(execution.trigger).toBe('MANUAL');

    const again = await cli(['start-execution', pipelineId]);
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(/412/);

    const waiting = await cli(['wait-execution', pipelineId, '--until-waiting', '--interval', '0.3', '--timeout', '50']);
    expect(waiting.code, waiting.stderr).toBe(0);
    expect(waiting.stderr).toMatch(/build\s+FINISHED/); // progress on stderr
    expect(waiting.stdout).toMatch(/approval\s+WAITING/);

    const current = await cli(['get-current-execution', pipelineId, '--json']);
    expect(current.code).toBe(0);
    const steps = (JSON.parse(current.stdout) as { _embedded: { stepStates: { action: string; status: string }[] } })._embedded.stepStates;
    expect(steps.find((s) => s.action === 'approval')?.status).toBe('WAITING');

    const advanced = await cli(['advance-current-execution', pipelineId, '--json']);
    expect(advanced.code, advanced.stderr).toBe(0);
    expect(JSON.parse(advanced.stdout)).toMatchObject({ action: 'approval', body: { approved: true } });

    const done = await cli(['wait-execution', pipelineId, execution.id, '--interval', '0.3', '--timeout', '50']);
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toMatch(/FINISHED/);

    // The approval records who approved, and with which body (details.user / details.input).
    const details = await cli(['get-execution-step-details', pipelineId, execution.id, '--json']);
    const approval = (JSON.parse(details.stdout) as { action: string; details?: { user?: string; input?: unknown } }[])
      .find((s) => s.action === 'approval');
    expect(approval?.details).toMatchObject({ user: 'admin', input: { approved: true } });

    const idle = await cli(['get-current-execution', pipelineId]);
    expect(idle.code).toBe(4);

    const log = await cli(['get-execution-step-log', pipelineId, execution.id, 'build']);
    expect(log.code, log.stderr).toBe(0);
    expect(log.stdout).toContain('[test] build: part 3 of 3');

    // A re-execution's build step copies the artifacts, and its label says so.
    const re = await cli(['re-execute', pipelineId]);
    expect(re.code, re.stderr).toBe(0);
    expect(re.stdout).toMatch(/RE_EXECUTE/);
    expect(re.stdout).toMatch(/build \(Copy Artifacts\)/);
    const reDone = await cli(['wait-execution', pipelineId, '--interval', '0.3', '--timeout', '50']);
    expect(reDone.code, reDone.stderr).toBe(0);
    expect(reDone.stdout).toMatch(/build \(Copy Artifacts\)\s+FINISHED/);
    expect(reDone.stdout).toMatch(/deploy \(prod\)\s+FINISHED/);

    // The first execution's release, redeployed (a rollback); the last one is re-executed instead.
    const last = /^Execution (\d+)/m.exec(reDone.stdout)?.[1] ?? '';
    expect(last).toMatch(/^\d+$/);
    const refused = await cli(['redeploy-execution', pipelineId, last]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/no redeploy link/);
    const back = await cli(['redeploy-execution', pipelineId, execution.id, '--json']);
    expect(back.code, back.stderr).toBe(0);
    expect(JSON.parse(back.stdout)).toMatchObject({ trigger: 'RE_EXECUTE', sourceExecutionId: execution.id });
    expect((await cli(['wait-execution', pipelineId, '--interval', '0.3', '--timeout', '50'])).code).toBe(0);
    // Every release that went live is that one build: there is nothing earlier to roll back to.
    const rollback = await cli(['rollback-pipeline', pipelineId]);
    expect(rollback.code).toBe(3);
    expect(rollback.stderr).toMatch(/nothing to roll back to: no release went live before the one of execution/);
  }, 120_000);

  it('cancel-current-execution rejects a waiting approval; wait-execution then exits 5', async () => {
    const started = await cli(['start-execution', pipelineId, '--json']);
    expect(started.code, started.stderr).toBe(0);
    const id = (JSON.parse(started.stdout) as { id: string }).id;
    expect((await cli(['wait-execution', pipelineId, '--until-waiting', '--interval', '0.3', '--timeout', '50'])).code).toBe(0);
    const cancelled = await cli(['cancel-current-execution', pipelineId, '--json']);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(JSON.parse(cancelled.stdout)).toMatchObject({ action: 'approval', link: 'cancel', body: { approved: false } });
    const end = await cli(['wait-execution', pipelineId, id, '--interval', '0.3', '--timeout', '50']);
    expect(end.code).toBe(5);
  });

  it('list-executions --json returns newest first, with filters', async () => {
    const all = await cli(['list-executions', pipelineId, '--json']);
    expect(all.code).toBe(0);
    const list = JSON.parse(all.stdout) as { id: string; status: string }[];
    expect(list).toHaveLength(4); // the approved one, its re-execution, its redeploy, the rejected one
    expect(Number(list[0]?.id)).toBeGreaterThan(Number(list[1]?.id));
    expect(list[1]?.status).toBe('FINISHED');
    const finished = JSON.parse((await cli(['list-executions', pipelineId, '--status', 'finished', '--json'])).stdout) as unknown[];
    expect(finished).toHaveLength(3);
    const again = JSON.parse((await cli(['list-executions', pipelineId, '--trigger', 're_execute', '--json'])).stdout) as { id: string }[];
    expect(again.map((e) => e.id)).toEqual([list[1]?.id, list[2]?.id]);
  });

  it('sets and lists pipeline variables; secrets are not shown', async () => {
    const set = await cli(['set-pipeline-variables', pipelineId, '-v', 'GREETING', 'hello', '-s', 'API_KEY', 'topsecret-value', '--service', 'build']);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain('GREETING');
    expect(set.stdout).not.toContain('topsecret-value');
    const bad = await cli(['set-pipeline-variables', pipelineId, '-v', 'ONLY_NAME']);
    expect(bad.code).toBe(3);
  });

  it('exit codes: 2 for a bad token or unreachable server, 4 for an unknown pipeline', async () => {
    const [badToken, unreachable, missing] = await Promise.all([
      binary(['list-programs'], { SLIPWAY_TOKEN: 'slw_not_a_valid_token_at_all' }),
      binary(['list-programs'], { SLIPWAY_URL: 'http://127.0.0.1:9' }),
      binary(['get-current-execution', '987654']),
    ]);
    expect(badToken.code).toBe(2);
    expect(badToken.stderr).toMatch(/token/i);
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toMatch(/cannot reach/);
    expect(missing.code).toBe(4);
  }, 120_000);
});

describe('members and tokens', () => {
  it('adds and removes a member, rotates a token and revokes a user\'s tokens', async () => {
    const added = await cli(['add-member', 'carla', 'DEVELOPER', '--json']);
    expect(added.code, added.stderr).toBe(0);
    const token = (JSON.parse(added.stdout) as { token: string }).token;
    expect((await cli(['list-programs'], { SLIPWAY_TOKEN: token })).code).toBe(0);
    expect((await cli(['add-member', 'admin', 'DEVELOPER'])).code).toBe(3);

    const rotated = await cli(['rotate-token', '--json'], { SLIPWAY_TOKEN: token });
    expect(rotated.code, rotated.stderr).toBe(0);
    const fresh = (JSON.parse(rotated.stdout) as { token: string }).token;
    expect((await cli(['list-programs'], { SLIPWAY_TOKEN: token })).code).toBe(2); // 401: the old token is gone
    expect((await cli(['list-programs'], { SLIPWAY_TOKEN: fresh })).code).toBe(0);

    const removed = await cli(['remove-member', 'carla']);
    expect(removed.code, removed.stderr).toBe(0);
    expect((await cli(['list-pipelines', '-p', programId], { SLIPWAY_TOKEN: fresh })).code).toBe(3); // 403: no role left
    expect((await cli(['remove-member', 'carla'])).code).toBe(4);

    const revoked = await cli(['revoke-tokens', 'carla']);
    expect(revoked.stdout).toContain('1 token(s) of carla revoked');
    expect((await cli(['list-programs'], { SLIPWAY_TOKEN: fresh })).code).toBe(2);
  });

  it('prints a registry pull token that the registry accepts', async () => {
    const res = await cli(['pull-token', '--days', '3', '--json']);
    expect(res.code, res.stderr).toBe(0);
    const grant = JSON.parse(res.stdout) as { registry: string; username: string; password: string };
    const basic = Buffer.from(`${grant.username}:${grant.password}`).toString('base64');
    expect((await fetch(`http://${grant.registry}/v2/`, { headers: { authorization: `Basic ${basic}` } })).status).toBe(200);
    expect((await cli(['pull-token', '--days', '0'])).code).toBe(3);
    expect((await cli(['pull-token'])).stdout).toMatch(/podman login --username pull --password 'slwpull\./);
  });
});
