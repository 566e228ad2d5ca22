// The network of a test container: a network namespace made by pasta (user-mode networking),
// the same recipe as the sandbox's (sandbox-command.ts pastaArgs): its own loopback, the
// host's loopback unreachable (--no-map-gw), no internet, and exactly the listed host
// 127.0.0.1 ports forwarded to 127.0.0.1 inside (the environment under test). podman joins it
// with `--network ns:<path>`, so inside a container 127.0.0.1:<stage port> is stage and
// every other host port (Slipway's API, admin sockets, other programs' nodes) is refused.
//
// pasta refuses to run as root (it drops to nobody and then cannot open its namespaces), so
// it runs as the sandbox account; its namespace is held by a `sleep` that pasta starts and
// found as pasta's child. Closing kills pasta's process group.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { pastaArgs } from './sandbox-command.ts';
import { dropRights, type RunAs } from './sandbox-host.ts';

export interface TestNetwork {
  /** For podman: `--network ns:<nsPath>`. */
  nsPath: string;
  close(): void;
}

const READY_MS = 10_000;

/** A process's children (pasta's: the holder of its namespaces). */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export function openTestNetwork(hostPorts: number[], runAs: RunAs): Promise<TestNetwork> {
  const argv = [
    ...dropRights(runAs),
    ...pastaArgs({ outbound: false, hostPorts }),
    // The holder says it is up, then keeps the namespace alive until pasta is killed.
    '/bin/sh', '-c', 'echo "holder ready"; exec sleep infinity',
  ];
  const child = spawn(argv[0] ?? '', argv.slice(1), { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: '/usr/bin:/bin' } });
  const close = (): void => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
  };
  return new Promise((resolve, reject) => {
    let output = '';
    const fail = (why: string): void => { clearTimeout(timer); close(); reject(new Error(`test network: ${why}${output ? `: ${output.trim()}` : ''}`)); };
    const timer = setTimeout(() => fail('pasta did not start'), READY_MS);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      if (!output.includes('holder ready')) return;
      // The holder is pasta's one child (its printed $$ is a pid of pasta's own PID namespace).
      const holder = child.pid === undefined ? undefined : childrenOf(child.pid)[0];
      if (holder === undefined) { fail('no namespace holder'); return; }
      clearTimeout(timer);
      child.stdout.removeAllListeners('data');
      child.stderr.removeAllListeners('data');
      child.stdout.resume();
      child.stderr.resume();
      resolve({ nsPath: `/proc/${holder}/ns/net`, close });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (err) => fail(err.message));
    child.on('exit', (code) => fail(`pasta exited with ${code}`));
  });
}
