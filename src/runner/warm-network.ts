// Warm networks for the sandbox's runs with outbound access and no ports (builds): pasta started
// ahead, its namespaces held by a `sleep` it runs, so that a run joins them (nsenter) instead of
// waiting for pasta's own start (~30 ms of namespaces and tables, on the way to a build's
// command once its checkout is local; bench: build-overhead). The same pasta arguments as a
// run's own (sandbox-command.ts pastaArgs), the same account; one warm network per run, never
// reused: the run that takes it kills it when it ends, and the next one is started then. pasta
// and its holder die with this process: a watching shell kills pasta when its stdin, a pipe from
// this process, ends (pasta's own user namespace clears a parent-death signal), and the holder
// dies with pasta (setpriv --pdeathsig). One warm network per process: a second run at once
// starts its own pasta, as without.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { pastaArgs } from './sandbox-command.ts';
import type { SandboxHost } from './sandbox-host.ts';

export interface WarmNetwork {
  /** The process whose user and network namespaces a run joins (their /proc/<pid>/ns files; alive when taken). */
  holderPid: number;
  /** Kills pasta and its holder; the next warm network starts. */
  close(): void;
}

const SETPRIV = '/usr/bin/setpriv';
const READY_MS = 10_000;

/** A warm network starting or up: pasta's pid, then its holder's once it said it is ready. */
interface Pending { child: ChildProcess; pasta?: number; holder?: number }

let warm: Pending | undefined;

/** pasta's one child, the holder; undefined when either is gone. */
function holderOf(pasta: number | undefined): number | undefined {
  if (pasta === undefined) return undefined;
  try {
    const [holder] = readFileSync(`/proc/${pasta}/task/${pasta}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    return holder;
  } catch {
    return undefined;
  }
}

/** Ends a warm network: the watching shell kills pasta and reaps it. */
function kill(child: ChildProcess): void {
  child.stdin?.destroy();
}

/** Runs pasta ("$@"), says its pid, and kills and reaps it once stdin ends (or this process does). */
const WATCH = '"$@" & p=$!; echo "pasta $p"; read -r _; kill -9 $p 2>/dev/null; wait $p';

function start(host: SandboxHost): Pending {
  const dropRights = host.runAs
    ? [SETPRIV, '--reuid', String(host.runAs.uid), '--regid', String(host.runAs.gid), '--clear-groups', '--inh-caps=-all', '--']
    : [];
  const argv = [
    ...dropRights, '/bin/sh', '-c', WATCH, 'warm-network',
    ...pastaArgs({ outbound: true }),
    // The holder dies with pasta, says it is up, then keeps the namespaces alive.
    SETPRIV, '--pdeathsig', 'SIGKILL', '--', '/bin/sh', '-c', 'echo ready; exec sleep infinity',
  ];
  const child = spawn(argv[0] ?? '/bin/sh', argv.slice(1), { detached: true, stdio: ['pipe', 'pipe', 'ignore'], env: { PATH: '/usr/bin:/bin' } });
  const pending: Pending = { child };
  child.on('error', () => undefined);
  child.stdin?.on('error', () => undefined);
  const timer = setTimeout(() => kill(child), READY_MS);
  timer.unref();
  child.once('exit', () => clearTimeout(timer));
  let said = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    said += chunk.toString('utf8');
    pending.pasta ??= Number(/^pasta (\d+)$/m.exec(said)?.[1]) || undefined;
    if (pending.holder !== undefined || !/^ready$/m.test(said)) return;
    clearTimeout(timer);
    pending.holder = holderOf(pending.pasta);
  });
  // Waiting to be taken must not keep this process alive.
  child.unref();
  for (const stream of [child.stdin, child.stdout]) (stream as { unref?(): void } | null)?.unref?.();
  return pending;
}

/** The holder of the warm network the next run joins, once it is up (for tests and operators). */
export function readyWarmNetwork(): number | undefined {
  return warm?.holder;
}

/**
 * The warm network, if one is up (undefined otherwise, and the run starts its own pasta). Taken
 * once; its close() starts the next. The first run of a process goes without.
 */
export function takeWarmNetwork(host: SandboxHost): WarmNetwork | undefined {
  const taken = warm;
  if (!taken) {
    warm = start(host);
    return undefined;
  }
  if (taken.holder === undefined) {
    // Still starting (then it is for the next run), or it never came up.
    if (taken.child.exitCode !== null || taken.child.signalCode !== null) warm = start(host);
    return undefined;
  }
  // Checked now, not when it came up: a pasta that died since is no network.
  if (holderOf(taken.pasta) !== taken.holder) {
    kill(taken.child);
    warm = start(host);
    return undefined;
  }
  warm = undefined;
  return {
    holderPid: taken.holder,
    close() {
      kill(taken.child);
      warm ??= start(host);
    },
  };
}
