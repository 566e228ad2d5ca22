// A git remote that stops answering mid-fetch (a real server on 127.0.0.1): the fetch fails
// after its timeout with a reason that says so, and no git process (git-remote-http included)
// is left behind waiting on the dead connection.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { git, GitError } from '../../src/runner/git.ts';

const COMMIT = 'c0ffee0000000000000000000000000000000001';
const sockets = new Set<Socket>();
let server: Server | undefined;
afterEach(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => server ? server.close(r) : r(undefined));
});

/** Smart HTTP that sends the start of the ref advertisement, then nothing more. */
function stallingGitHttp(): Server {
  return createHttpServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/x-git-upload-pack-advertisement', 'cache-control': 'no-cache' });
    res.write('001e# service=git-upload-pack\n0000');
  });
}

/** Accepts the connection and never says a word. */
function silentTcp(): Server {
  return createTcpServer(() => undefined);
}

async function listen(s: Server): Promise<number> {
  s.on('connection', (c: Socket) => sockets.add(c));
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const address = s.address();
  return typeof address === 'object' && address ? address.port : 0;
}

/** Processes whose command line mentions the port: git and its helpers talking to the remote. */
function processesFor(port: number): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmd.includes(`127.0.0.1:${port}/`)) found.push(`${pid} ${cmd}`);
    } catch { /* gone meanwhile */ }
  }
  return found;
}

describe('a git remote that stops answering', () => {
  it.each([
    ['starts a smart-HTTP answer, then stalls', stallingGitHttp],
    ['accepts the connection and stays silent', silentTcp],
  ])('one that %s: the fetch fails after its timeout, nothing left running', async (_, make) => {
    server = make();
    const port = await listen(server);
    const url = `http://127.0.0.1:${port}/site.git`;
    const dir = mkdtempSync(join(tmpdir(), 'slipway-git-stall-'));
    execFileSync('git', ['init', '--quiet', dir]);
    const fetching = git(['-c', 'protocol.version=2', 'fetch', '--quiet', '--depth', '1', '--', url, COMMIT], { cwd: dir, timeoutMs: 3000 });
    const error = await fetching.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(GitError);
    expect((error as Error).message).toMatch(/^git fetch failed \(killed\): timed out after 3 s/);
    expect(sockets.size).toBeGreaterThan(0); // it did reach the remote
    expect(processesFor(port)).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);
});
