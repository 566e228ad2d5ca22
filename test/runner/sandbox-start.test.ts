// A sandbox started before its command (startSandbox, the build's overlap with its checkout):
// until run() it runs only Slipway's fixed waiting line, sees what the workspace gets meanwhile
// only once the command runs, gets the command verbatim with its channel closed, and a sandbox
// stopped without a command leaves no process and no cgroup behind.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BWRAP, startSandbox, type StartOptions } from '../../src/runner/sandbox.ts';
import { AWAIT_COMMAND, COMMAND_FD } from '../../src/runner/sandbox-command.ts';
import { eventually } from '../support/eventually.ts';
import { ownRunCgroups, processesMentioning } from '../support/run-processes.ts';

let root: string;
beforeAll(() => { root = mkdtempSync(join(tmpdir(), 'slipway-sandbox-start-')); });
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A started sandbox with the build's shape (limits, outbound network, a private HOME) and its output. */
function started(name: string): { sandbox: ReturnType<typeof startSandbox>; workspace: string; home: string; out: () => string } {
  const workspace = join(root, name, 'ws');
  const home = join(root, name, 'home');
  // Root's alone, as the server's umask (077) makes it: the sandbox starts in it all the same.
  mkdirSync(workspace, { recursive: true, mode: 0o700 });
  mkdirSync(home, { recursive: true });
  const chunks: Buffer[] = [];
  const opts: StartOptions = {
    workspace, writablePaths: [home], env: { HOME: home }, limits: { pids: 64, memoryBytes: 256 * 1024 ** 2 },
    network: { outbound: true }, onOutput: (c) => chunks.push(c), log: () => undefined,
  };
  return { sandbox: startSandbox(opts), workspace, home, out: () => Buffer.concat(chunks).toString('utf8') };
}

/** The sandbox's inner shell, once it waits for its command. */
const waiting = (home: string): Promise<string> =>
  eventually(() => processesMentioning(home).find((p) => p.includes(AWAIT_COMMAND)), 15_000, 'the sandbox waiting for its command');

describe('startSandbox', () => {
  it('runs only its waiting line until run(); the command sees the workspace as completed meanwhile, verbatim, without the channel', async () => {
    const { sandbox, workspace, home, out } = started('run');
    try {
      await waiting(home);
      // Inside, nothing but the waiting line runs: every process of the run is pasta or
      // bubblewrap (their arguments end in the waiting line) or the line itself.
      for (const p of processesMentioning(home)) expect(p).toContain(AWAIT_COMMAND);
      writeFileSync(join(workspace, 'late.txt'), 'checked out after the start\n');
      const command = [
        `printf '%s|' "it's" 'back\\slash' "$HOME"; echo`,
        'cat late.txt',
        // The channel the command came through is closed before the command runs.
        `if [ -e /proc/self/fd/${COMMAND_FD} ]; then echo channel open; else echo channel closed; fi`,
        'id -u > owner.txt',
      ].join('\n');
      const result = await sandbox.run(command, 20_000);
      expect(result.exitCode, out()).toBe(0);
      // Ended: no process inside the sandbox is left (the command's have the run's HOME); the
      // sandbox's own, pasta and bubblewrap, may be ending still: stop() waits for them.
      expect(processesMentioning(home).filter((p) => !p.includes(`${BWRAP} `))).toEqual([]);
      const lines = out().split('\n');
      expect(lines[0]).toBe(`it's|back\\slash|${home}|`);
      expect(lines[1]).toBe('checked out after the start');
      expect(lines[2]).toBe('channel closed');
      // run() handed the workspace over: what the command wrote is the sandbox account's.
      expect(readFileSync(join(workspace, 'owner.txt'), 'utf8').trim()).not.toBe('0');
    } finally {
      await sandbox.stop();
    }
    expect(processesMentioning(home)).toEqual([]);
    expect(ownRunCgroups()).toEqual([]);
  });

  it("resolves with the command's exit code once all its output has been delivered", async () => {
    const { sandbox, home, out } = started('output');
    try {
      await waiting(home);
      // More than a pipe holds (64 kB), then an exit code of its own.
      const result = await sandbox.run('seq 1 50000; exit 3', 20_000);
      expect(result.exitCode).toBe(3);
      const lines = out().trimEnd().split('\n');
      expect(lines.length).toBe(50_000);
      expect(lines.at(-1)).toBe('50000');
    } finally {
      await sandbox.stop();
    }
    expect(processesMentioning(home)).toEqual([]);
    expect(ownRunCgroups()).toEqual([]);
  });

  it('stopped before its command: nothing ran, and no process or cgroup of it is left', async () => {
    const { sandbox, workspace, home } = started('stop');
    await waiting(home);
    // What a checkout would put there; had anything run it, the marker would exist.
    writeFileSync(join(workspace, 'build.sh'), `#!/bin/sh\ntouch ${JSON.stringify(join(workspace, 'ran'))}\n`, { mode: 0o755 });
    await sandbox.stop();
    expect(processesMentioning(home)).toEqual([]);
    expect(ownRunCgroups()).toEqual([]);
    expect(() => readFileSync(join(workspace, 'ran'))).toThrow();
    await expect(sandbox.run('./build.sh', 20_000)).rejects.toThrow(/after stop/);
  });

  it('cancelled (the step\'s signal) while it waits: the run ends as cancelled and leaves nothing', async () => {
    const workspace = join(root, 'cancel', 'ws');
    const home = join(root, 'cancel', 'home');
    mkdirSync(workspace, { recursive: true });
    mkdirSync(home, { recursive: true });
    const controller = new AbortController();
    const chunks: Buffer[] = [];
    const sandbox = startSandbox({
      workspace, writablePaths: [home], env: { HOME: home }, limits: { pids: 64 }, network: { outbound: true },
      signal: controller.signal, onOutput: (c) => chunks.push(c), log: () => undefined,
    });
    await waiting(home);
    controller.abort();
    const result = await sandbox.run('echo never', 20_000);
    await sandbox.stop();
    expect(result.cancelled).toBe(true);
    expect(Buffer.concat(chunks).toString('utf8')).not.toContain('never');
    expect(processesMentioning(home)).toEqual([]);
    expect(ownRunCgroups()).toEqual([]);
  });
});
