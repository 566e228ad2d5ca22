// A process forked ahead for the sandbox's next run (the launcher): /bin/sh, spawned with the
// run's stdio, environment and process group, waiting for the run's command line on its fd 7
// (above the run's own fds and those the sandbox's SETUP opens); told it, it execs it, so the
// run is that very process (its pid, pipes and group), as if it had been spawned then. Why: a
// spawn forks Slipway, whose page tables take 5–15 ms to copy on a VM, on the way to a build's
// command and blocking the event loop meanwhile (bench: build-overhead).
// One launcher at a time per kind of run (its LaunchOptions): taken by one run, the next is
// forked when the sandbox says (sandbox.ts: a second after the last run ended, as a fork beside a
// build's command slows it); a run that finds none spawns.
// Its command line arrives shell-quoted, as counted lines (counted-lines.ts), on a pipe only
// Slipway holds; the pipe closed without it whole (Slipway ended), it exits and runs nothing.
// Execs are spared on top: the head a run's command line starts with (LaunchOptions.prefix: the
// sandbox's `unshare`, or a build's whole chain up to bubblewrap, sandbox-ahead.ts) runs when
// the launcher is forked, and a command line `/bin/sh -c SCRIPT NAME ARGS…` (Slipway's own
// scripts: the sandbox's wrapper, the disk quota's meter) runs SCRIPT in the launcher's own
// shell, with ARGS, not in a new one.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import type { Writable } from 'node:stream';
import { countedLines, readCountedLines } from './counted-lines.ts';
import { shellQuote } from './node-script.ts';

/** The fd the launcher reads the command line from; closed before the exec. */
const ARGV_FD = 7;
const LAUNCH = [
  readCountedLines(ARGV_FD),
  'eval "set -- $c"',
  'if [ "$1" = /bin/sh ] && [ "$2" = -c ] && [ $# -ge 4 ]; then c=$3; shift 4; eval "$c"; exit; fi',
  'exec "$@"',
].join('; ');

/** How a run's process is spawned: all but its command line is the launcher's. */
export interface LaunchOptions {
  /** The head of every command line launched so (run as the launcher is forked); default none. */
  prefix?: string[];
  env: Record<string, string>;
  /** fd 7 is the launcher's own (ARGV_FD): a run's stdio ends below it. */
  stdio: StdioOptions;
}

/** The waiting launcher of each kind of run, by keyOf(its options). */
const ready = new Map<string, ChildProcess>();

function keyOf(options: LaunchOptions): string {
  return JSON.stringify(options);
}

function fork(options: LaunchOptions): void {
  const stdio = Array.from({ length: ARGV_FD + 1 }, (_, fd) => (fd === ARGV_FD ? 'pipe' : (options.stdio as unknown[])[fd] ?? 'ignore'));
  const [file = '/bin/sh', ...args] = [...options.prefix ?? [], '/bin/sh', '-c', LAUNCH];
  const child = spawn(file, args, { cwd: '/', env: options.env, detached: true, stdio: stdio as StdioOptions });
  child.on('error', () => undefined);
  (child.stdio.at(ARGV_FD) as Writable | null | undefined)?.on('error', () => undefined);
  // Waiting to be taken must not keep this process alive; taken, the run refs it again.
  child.unref();
  for (const stream of child.stdio) (stream as { unref?(): void } | null)?.unref?.();
  const key = keyOf(options);
  child.once('exit', () => { if (ready.get(key) === child) ready.delete(key); });
  ready.set(key, child);
}

/** Forks a launcher for runs spawned with `options` unless one is waiting (the first: at the engine's start). */
export function warmUpLauncher(options: LaunchOptions): void {
  if (!ready.has(keyOf(options))) fork(options);
}

/**
 * The run's process: `argv` exec'd by the waiting launcher when its options are these (and
 * `argv` starts with their prefix), else spawned. Either way a process of its own group
 * (detached), with `options`' stdio and env.
 */
export function launch(argv: string[], options: LaunchOptions): ChildProcess {
  const prefix = options.prefix ?? [];
  const key = keyOf(options);
  const waiting = ready.get(key);
  const fits = prefix.every((word, i) => argv[i] === word);
  const taken = fits && waiting?.exitCode === null && waiting.signalCode === null ? waiting : undefined;
  if (!taken) return spawn(argv[0] ?? '/bin/sh', argv.slice(1), { cwd: '/', env: options.env, detached: true, stdio: options.stdio });
  ready.delete(key);
  taken.ref();
  for (const stream of taken.stdio) (stream as { ref?(): void } | null)?.ref?.();
  (taken.stdio.at(ARGV_FD) as Writable).end(countedLines(argv.slice(prefix.length).map(shellQuote).join(' ')));
  return taken;
}

/** The pid of the launcher waiting for runs with `options`: a child of this process by design. */
export function launcherPid(options: LaunchOptions): number | undefined {
  return ready.get(keyOf(options))?.pid;
}

/** The pids of all waiting launchers (for tests). */
export function launcherPids(): number[] {
  return [...ready.values()].flatMap((child) => (child.pid === undefined ? [] : [child.pid]));
}
