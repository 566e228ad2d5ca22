// A process forked ahead for the sandbox's next run (the launcher): /bin/sh, spawned with the
// run's stdio, environment and process group, waiting for the run's command line on its fd 3;
// told it, it execs it, so the run is that very process (its pid, pipes and group), as if it had
// been spawned then. Why: a spawn forks Slipway, whose page tables take 5–15 ms to copy on a VM,
// on the way to a build's command and blocking the event loop meanwhile (bench: build-overhead).
// One launcher at a time: taken by one run, the next is forked a second later (as the warm
// networks, off the way of the run and what follows it); a run that finds none spawns as before.
// Its command line arrives shell-quoted and whole (to EOF) on a pipe only Slipway holds; the
// pipe closed without one (Slipway ended), it exits and runs nothing.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import type { Writable } from 'node:stream';

/** The fd the launcher reads the command line from; closed before the exec. */
const ARGV_FD = 3;
const LAUNCH = [
  `c=; while IFS= read -r l <&${ARGV_FD}; do c="$c$l\n"; done`,
  `exec ${ARGV_FD}<&-`,
  '[ -n "$c" ] || exit 125',
  'eval "exec $c"',
].join('; ');
/** How long after a launcher was taken the next is forked (see the header). */
const NEXT_AFTER_MS = 1000;

/** How a run's process is spawned: all but its command line is the launcher's. */
export interface LaunchOptions {
  env: Record<string, string>;
  /** fd 3 is the launcher's own (ARGV_FD): a run's stdio leaves it 'ignore'. */
  stdio: StdioOptions;
}

let ready: { child: ChildProcess; key: string } | undefined;
let forking = false;

/** A word the shell reads back as exactly `arg`. */
export function shellQuote(arg: string): string {
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

function keyOf(options: LaunchOptions): string {
  return JSON.stringify(options);
}

function fork(options: LaunchOptions): void {
  const stdio = [...(options.stdio as unknown[])];
  stdio[ARGV_FD] = 'pipe';
  const child = spawn('/bin/sh', ['-c', LAUNCH], { cwd: '/', env: options.env, detached: true, stdio: stdio as StdioOptions });
  child.on('error', () => undefined);
  (child.stdio[ARGV_FD] as Writable | null)?.on('error', () => undefined);
  // Waiting to be taken must not keep this process alive; taken, the run refs it again.
  child.unref();
  for (const stream of child.stdio) (stream as { unref?(): void } | null)?.unref?.();
  child.once('exit', () => { if (ready?.child === child) ready = undefined; });
  ready = { child, key: keyOf(options) };
}

/** Forks a launcher for runs spawned with `options` unless one is waiting (the first: at the engine's start). */
export function warmUpLauncher(options: LaunchOptions): void {
  if (!ready) fork(options);
}

/**
 * The run's process: `argv` exec'd by the waiting launcher when its options are these, else
 * spawned. Either way a process of its own group (detached), with `options`' stdio and env.
 */
export function launch(argv: string[], options: LaunchOptions): ChildProcess {
  const taken = ready?.key === keyOf(options) && ready.child.exitCode === null && ready.child.signalCode === null ? ready.child : undefined;
  if (!forking) {
    forking = true;
    setTimeout(() => { forking = false; warmUpLauncher(options); }, NEXT_AFTER_MS).unref();
  }
  if (!taken) return spawn(argv[0] ?? '/bin/sh', argv.slice(1), { cwd: '/', env: options.env, detached: true, stdio: options.stdio });
  ready = undefined;
  taken.ref();
  for (const stream of taken.stdio) (stream as { ref?(): void } | null)?.ref?.();
  (taken.stdio[ARGV_FD] as Writable).end(`${argv.map(shellQuote).join(' ')}\n`);
  return taken;
}

/** The waiting launcher's pid: a child of this process by design (for tests). */
export function launcherPid(): number | undefined {
  return ready?.child.pid;
}
