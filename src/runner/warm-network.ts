// Warm networks for the sandbox's runs with outbound access and no ports (builds): pasta started
// ahead, its namespaces held by a shell it runs (the holder), so that a run joins them (nsenter) instead of
// waiting for pasta's own start (~30 ms of namespaces and tables, on the way to a build's
// command once its checkout is local; bench: build-overhead). The same pasta arguments as a
// run's own (sandbox-command.ts pastaArgs), the same account; one warm network per run, never
// reused. A second after a run that could take one ended (afterRun), the one it took ends and
// the next one starts: pasta's start and end (a network namespace made, torn down) disturb
// whatever runs beside them (ten `node -e 0` beside a start took ~20 ms longer in all on 2
// cores, even with pasta at the lowest priority), so neither on the way to a run's command, nor
// beside it, nor beside what its step does right after it (a build packing its outputs).
// The holder waits on a pipe from this process: when the pipe is closed (or this process dies)
// the holder ends, and pasta with it; when pasta is killed, the holder gets SIGKILL (setpriv
// --pdeathsig; pasta's own user namespace clears such a signal for pasta itself). One warm
// network per process: a second run at once starts its own pasta, as without. A process with an
// engine starts the first at once.
import { spawn, type ChildProcess } from 'node:child_process';
import { pastaArgs } from './sandbox-command.ts';
import { childrenOf } from './container-net.ts';
import { dropRights, SETPRIV, type SandboxHost } from './sandbox-host.ts';

export interface WarmNetwork {
  /** The process whose user and network namespaces a run joins (their /proc/<pid>/ns files; alive when taken). */
  holderPid: number;
  /** Ends pasta and its holder. */
  close(): void;
}

const READY_MS = 10_000;
/** How long after a run ended its warm network ends and the next starts (see the header). */
const NEXT_AFTER_MS = 1000;

/** A warm network starting or up: its holder's pid once it said it is ready. */
interface Pending { child: ChildProcess; holder?: number }

let warm: Pending | undefined;
/** Every warm network's pasta still running: the one up or starting, and used ones not yet ended. */
const running = new Set<ChildProcess>();

/** pasta's one child, the holder; undefined when either is gone. */
function holderOf(pasta: ChildProcess): number | undefined {
  if (pasta.pid === undefined || pasta.exitCode !== null || pasta.signalCode !== null) return undefined;
  return childrenOf(pasta.pid)[0];
}

/** Ends a warm network: its holder reads the end of its pipe and exits, and pasta with it. */
function end(child: ChildProcess): void {
  child.stdin?.destroy();
}

function start(host: SandboxHost): Pending {
  const argv = [
    ...(host.runAs ? dropRights(host.runAs) : []), ...pastaArgs({ outbound: true }),
    // The holder: says it is up, keeps the namespaces until its stdin (this process's pipe) ends.
    SETPRIV, '--pdeathsig', 'SIGKILL', '--', '/bin/sh', '-c', 'echo ready; read -r _',
  ];
  const child = spawn(argv[0] ?? SETPRIV, argv.slice(1), { detached: true, stdio: ['pipe', 'pipe', 'ignore'], env: { PATH: '/usr/bin:/bin' } });
  const pending: Pending = { child };
  running.add(child);
  child.once('exit', () => running.delete(child));
  child.on('error', () => undefined);
  child.stdin?.on('error', () => undefined);
  const timer = setTimeout(() => end(child), READY_MS);
  timer.unref();
  child.once('exit', () => clearTimeout(timer));
  child.stdout?.once('data', () => {
    clearTimeout(timer);
    child.stdout?.resume();
    pending.holder = holderOf(child);
  });
  // Waiting to be taken must not keep this process alive.
  child.unref();
  for (const stream of [child.stdin, child.stdout]) (stream as { unref?(): void } | null)?.unref?.();
  return pending;
}

/** Starts a warm network unless one is up or starting (the first: at the engine's start). */
export function warmUpNetwork(host: SandboxHost): void {
  if (warm && (warm.child.exitCode !== null || warm.child.signalCode !== null)) warm = undefined;
  if (host.pasta && host.bwrap) warm ??= start(host);
}

/**
 * After a run that could take a warm network ended (whether it took one or not): NEXT_AFTER_MS
 * later, the one it took ends and the next starts.
 */
export function afterRun(host: SandboxHost, taken: WarmNetwork | undefined): void {
  setTimeout(() => {
    taken?.close();
    warmUpNetwork(host);
  }, NEXT_AFTER_MS).unref();
}

/** The holder of the warm network the next run joins, once it is up (for tests and operators). */
export function readyWarmNetwork(): number | undefined {
  return warm?.holder;
}

/** The pids of the warm networks' pasta processes still running: children of this process by design. */
export function warmNetworkPids(): number[] {
  return [...running].flatMap((child) => (child.pid === undefined ? [] : [child.pid]));
}

/**
 * The warm network, if one is up (undefined otherwise, and the run starts its own pasta; one
 * still starting is left for the next run). Taken once, by one run, whose afterRun ends it.
 */
export function takeWarmNetwork(): WarmNetwork | undefined {
  const taken = warm;
  if (taken?.holder === undefined) return undefined;
  warm = undefined;
  // Checked now, not when it came up: a pasta that died since is no network.
  if (holderOf(taken.child) !== taken.holder) {
    end(taken.child);
    return undefined;
  }
  return { holderPid: taken.holder, close: () => end(taken.child) };
}
