// Runs one shell command of repository code in the sandbox (sandbox-command.ts says what the
// command line isolates and how). This module owns the run's lifecycle on the host: preparing
// it (sandbox-prepare.ts: the cgroups, the ownership of the writable dirs, the run dir), the
// disk quota watch, the memory-limit verdict, the command's end (sandbox-status.ts), and
// killing everything when the command ends, is cancelled or times out: the run has its own
// process group (detached), bwrap's PID namespace dies with its init, and whatever is left in
// the run's cgroups is killed by pid.
//
// A run can be started before its workspace is complete (startSandbox, for the build: what is
// left of the sandbox's own start, bubblewrap's, then overlaps the reading of the sources; the
// rest of a build's chain was started ahead of the build: sandbox-ahead.ts). Started,
// the sandbox runs only AWAIT_COMMAND (sandbox-command.ts), Slipway's fixed shell line that
// waits for the command on a pipe; run() hands the finished workspace to the sandbox account
// and only then sends the command. The namespaces, mounts, network, limits, seccomp filter and
// uid are those of any run: the command line differs in the command string alone.
import type { ChildProcess } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { countedLines } from './counted-lines.ts';
import { diskQuota, METER_LAUNCH, type DiskQuota } from './disk-quota.ts';
import { AWAIT_COMMAND, COMMAND_FD, DEFAULT_PATH, OWN_MOUNTS, cacheDirs, writableDirs, type SandboxSpec } from './sandbox-command.ts';
import { launch, launcherPid, warmUpLauncher, type LaunchOptions } from './launcher.ts';
import { handOverTree, own, prepareSandbox, type PreparedSandbox } from './sandbox-prepare.ts';
import { sandboxHost, type SandboxHost } from './sandbox-host.ts';
import { outputDelivered, reportedExit, STATUS_FD } from './sandbox-status.ts';
import { aheadReady, discardAhead, prepareAhead, takeAhead, warmUpAhead, type AheadChain, type AheadConfig } from './sandbox-ahead.ts';

export { bwrapArgs, sandboxCommand, stagingFstab, type NetworkOptions, type SandboxLimits, type SandboxSpec } from './sandbox-command.ts';
export { BWRAP } from './sandbox-host.ts';
export { prepareSandbox, type PreparedSandbox } from './sandbox-prepare.ts';

/** A sandbox started ahead of its command (see the header); without a command it runs nothing. */
export interface StartOptions extends Omit<SandboxSpec, 'command'> {
  signal?: AbortSignal;
  /** stdout and stderr, interleaved in the order written, as it arrives. */
  onOutput(chunk: Buffer): void;
  /** Notices about the sandbox itself (skipped limits, fallbacks). Default: console.warn. */
  log?(line: string): void;
  /**
   * The workspace and the writable paths are fresh: made for this run and written by root alone
   * (the build's checkout, HOME and TMPDIR). They are handed over in this process
   * (handOverTree), not by `chown -R` processes; the cache paths still go through own().
   */
  fresh?: boolean;
}

export interface SandboxOptions extends StartOptions {
  command: string;
  timeoutMs: number;
}

export interface SandboxResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  cancelled: boolean;
  /** The workspace and writable paths outgrew limits.diskBytes; the run was killed. */
  diskQuotaExceeded: boolean;
  /** A process of the run was killed by the kernel for the memory limit. */
  outOfMemory: boolean;
  /** From the command's start (run()) to its end. */
  durationMs: number;
}

export interface StartedSandbox {
  /** Resolves once the sandbox's processes are started (or never will be: see run()). */
  started: Promise<void>;
  /**
   * The workspace is complete (checked out): it is handed to the sandbox account now, while the
   * caller still reads it. Nothing runs yet. Idempotent; run() does it too.
   */
  handOver(): Promise<void>;
  /**
   * Runs `command` once the workspace is handed over. Resolves when the command has ended, no
   * process inside the sandbox is left and its output has been delivered (sandbox-status.ts);
   * the sandbox's own processes (pasta, bubblewrap's monitor) may still be ending, and stop()
   * waits for them and releases the rest (cgroups, run dir): always call it.
   */
  run(command: string, timeoutMs: number): Promise<SandboxResult>;
  /** Kills whatever of the run is left and releases it; for a sandbox whose command never ran. Idempotent. */
  stop(): Promise<void>;
}

/**
 * How a run's wrapper is spawned: [COMMAND_FD] the command, sent in run(); [STATUS_FD]
 * bubblewrap's status lines. `prefix`, the head of its command line, runs ahead with the
 * launcher's: the mount namespace, or a build's whole chain up to bubblewrap (sandbox-ahead.ts).
 */
function launchOptions(prefix: string[]): LaunchOptions {
  return { ...(prefix.length > 0 ? { prefix } : {}), env: { PATH: DEFAULT_PATH }, stdio: ['ignore', 'pipe', 'pipe', 'ignore', 'pipe', 'pipe'] };
}

/** What is launched for a run (launcher.ts): its wrapper, and its disk quota's meter. */
function launchedAhead(host: SandboxHost): LaunchOptions[] {
  return [launchOptions(host.runAs ? OWN_MOUNTS : []), METER_LAUNCH];
}

/**
 * What a process that runs builds starts with (the engine's start): the launchers of a run's
 * wrapper and of its disk quota's meter and, given `builds` (their data dir and limits), the
 * first build's chain (sandbox-ahead.ts).
 */
export function warmUpSandbox(builds?: AheadConfig): void {
  const host = sandboxHost();
  if (!host.bwrap) return;
  for (const options of launchedAhead(host)) warmUpLauncher(options);
  if (builds) warmUpAhead(builds, launchOptions);
}

/** How long after the last run ended what runs take is forked again (see runEnded). */
const REFILL_AFTER_MS = 1000;
/** Runs started and not yet stopped. */
let running = 0;
let refill: NodeJS.Timeout | undefined;

/** A chain taken by a run that then never started: it ends, and the next is prepared as after a run. */
function unused(ahead: AheadChain): void {
  discardAhead(ahead);
  refillAfterRuns();
}

function runStarted(): void {
  running++;
  clearTimeout(refill);
}

function runEnded(): void {
  running--;
  refillAfterRuns();
}

/**
 * A second after the last run ended, the launchers and the next build's chain that runs took
 * are forked again: never beside a run (a fork, pasta's start, slow a build's command), and what
 * follows a run (a build packing its outputs) gets its second undisturbed.
 */
function refillAfterRuns(): void {
  clearTimeout(refill);
  if (running > 0) return;
  refill = setTimeout(() => {
    for (const options of launchedAhead(sandboxHost())) warmUpLauncher(options);
    prepareAhead();
  }, REFILL_AFTER_MS).unref();
}

/** Whether the next build finds all warmUpSandbox makes: it then forks nothing of Slipway's. */
export function sandboxWarm(): boolean {
  return aheadReady() && launchedAhead(sandboxHost()).every((options) => launcherPid(options) !== undefined);
}

/** Time SIGTERM gets before SIGKILL; well inside the 2 s a cancel may take. */
const TERM_GRACE_MS = 400;
/** After the process exits, how long its output pipe may stay open (held by an escaped child). */
const DRAIN_MS = 1500;

interface Exit { exitCode: number | null; signal: NodeJS.Signals | null }

/**
 * Starts the sandbox without its command: everything up to the command's exec (run dir, cgroups,
 * the wrapper, pasta, bubblewrap) runs while the caller completes the workspace. The workspace
 * (bound at start, so it must exist) is handed to the sandbox account only in run(): git, as
 * root, refuses a repository owned by another user, and the files are not there yet anyway.
 */
export function startSandbox(opts: StartOptions): StartedSandbox {
  const log = opts.log ?? ((line: string) => console.warn(line));
  const workspace = resolve(opts.workspace);
  let stopped = false;
  let cancelled = false;
  let timedOut = false;
  let diskQuotaExceeded = false;
  let prepared: PreparedSandbox | undefined;
  let child: ChildProcess | undefined;
  let quota: DiskQuota | undefined;
  let exitedAlready = false;
  let killTimer: NodeJS.Timeout | undefined;
  let reported: Promise<number | undefined> = Promise.resolve(undefined);
  let owning: Promise<void> = Promise.resolve();
  /** Output chunks delivered so far. */
  let chunks = 0;

  const killTree = (): void => {
    if (killTimer || exitedAlready || child?.pid === undefined) return;
    const pgid = child.pid;
    try { process.kill(-pgid, 'SIGTERM'); } catch { /* gone */ }
    killTimer = setTimeout(() => {
      try { process.kill(-pgid, 'SIGKILL'); } catch { /* gone */ }
      void prepared?.cgroup?.pids().then((pids) => {
        for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
      });
    }, TERM_GRACE_MS);
  };
  const onAbort = (): void => { cancelled = true; killTree(); };
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  /**
   * Kills what is left in the run's cgroups (a process that left the group and closed its
   * output) until nothing is; bounded like the cgroups' removal, which stop() still does.
   */
  const settle = async (): Promise<void> => {
    const cgroup = prepared?.cgroup;
    if (!cgroup) return;
    for (let attempt = 0, left = await cgroup.pids(); left.length > 0 && attempt < 100; attempt++, left = await cgroup.pids()) {
      for (const pid of left) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  /** The run's end: its main process exited, its output drained, nothing else of it is left. */
  const exitOf = (proc: ChildProcess): Promise<Exit> => new Promise<Exit>((resolveExit, rejectExit) => {
    let closed = false;
    proc.once('close', () => { closed = true; });
    proc.on('error', rejectExit);
    proc.on('exit', (exitCode, signal) => {
      // Make sure nothing of the run survives its main process (a background job left behind).
      if (proc.pid !== undefined) { try { process.kill(-proc.pid, 'SIGKILL'); } catch { /* gone */ } }
      exitedAlready = true;
      const finish = (): void => {
        clearTimeout(drain);
        if (killTimer) clearTimeout(killTimer);
        void settle().then(() => resolveExit({ exitCode, signal }), rejectExit);
      };
      const drain = setTimeout(() => { proc.stdout?.destroy(); proc.stderr?.destroy(); finish(); }, DRAIN_MS);
      if (closed) finish();
      else proc.once('close', finish);
    });
  });
  // The sandbox up to the wrapper waiting for its command; undefined when it was never started.
  const launched: Promise<ChildProcess | undefined> = (async () => {
    if (opts.signal?.aborted) return undefined;
    const spec = { ...opts, command: AWAIT_COMMAND };
    // bwrap enters the workspace as it starts, before the workspace is handed over: the
    // sandbox account needs to pass through it (not to read it) even where Slipway's umask
    // (077) made it root's alone. It lies under the 0700 data dir: nobody else gets there.
    // Synchronous, as everything up to the spawn that need not wait: the launch is on the
    // build's way to its command, and each hop through the event loop lets other work in.
    chmodSync(workspace, 0o711);
    // The other writable dirs (HOME, TMPDIR, a build cache not yet handed over) become the
    // sandbox account's while it starts: only the command writes them, sent once they are (run()).
    const host = sandboxHost();
    const others = writableDirs(spec).filter((d) => d !== workspace);
    const caches = cacheDirs(spec);
    owning = opts.fresh
      ? Promise.all([own(host, caches, caches), ...others.filter((d) => !caches.includes(d)).map((d) => handOverTree(host, d))]).then(() => undefined)
      : own(host, others, caches);
    owning.catch(() => undefined); // awaited through othersOwned
    const ahead = takeAhead(spec);
    try {
      prepared = await prepareSandbox(spec, log, { ownNow: [], statusFd: STATUS_FD, ...(ahead ? { chain: ahead.chain } : {}) });
    } catch (err) {
      if (ahead) unused(ahead);
      throw err;
    }
    // Stopped or cancelled while the run was being prepared: nothing is started.
    if (stopped || opts.signal?.aborted) {
      if (ahead) unused(ahead);
      return undefined;
    }
    child = launch(prepared.argv, ahead?.launch ?? launchOptions(host.runAs ? OWN_MOUNTS : []));
    runStarted();
    // The quota's meter starts now, while the sandbox does, not beside the command (disk-quota.ts).
    if (opts.limits?.diskBytes) quota = diskQuota(writableDirs(opts), opts.limits.diskBytes);
    reported = reportedExit(child.stdio.at(STATUS_FD) as Readable);
    // Written once, in run(); a sandbox that ended before (bwrap refused to start) is no error here.
    child.stdio[COMMAND_FD]?.on('error', () => undefined);
    child.stdout?.on('data', (chunk: Buffer) => { chunks++; opts.onOutput(chunk); });
    // Only the wrapper's own errors arrive here (the command's stderr is merged into stdout).
    child.stderr?.on('data', (chunk: Buffer) => { chunks++; opts.onOutput(chunk); });
    return child;
  })();
  const exited: Promise<Exit> = launched.then((proc) => (proc ? exitOf(proc) : { exitCode: null, signal: null }));
  /** The other writable dirs made the sandbox account's, once the launch has started doing so. */
  const othersOwned = launched.then(() => owning);
  othersOwned.catch(() => undefined); // awaited by handOver() and stop(), never unhandled meanwhile
  exited.catch(() => undefined); // awaited by run() and stop(), never unhandled meanwhile
  /** The command's end as bubblewrap reports it, its output delivered; never without a report. */
  const commandEnded: Promise<Exit> = launched.then(async () => {
    const exitCode = await reported;
    if (exitCode === undefined) return new Promise<never>(() => undefined);
    await outputDelivered(() => chunks);
    return { exitCode, signal: null };
  });
  commandEnded.catch(() => undefined); // raced in run(), never unhandled meanwhile

  // Only once the workspace is complete does it become the sandbox account's (see above).
  let handedOver: Promise<void> | undefined;
  const handOver = (): Promise<void> => {
    if (stopped) return Promise.reject(new Error('sandbox: handOver() after stop()'));
    const host = sandboxHost();
    handedOver ??= Promise.all([
      opts.fresh ? handOverTree(host, workspace) : own(host, [workspace]), othersOwned,
    ]).then(() => undefined);
    handedOver.catch(() => undefined); // awaited by run() and stop(), never unhandled meanwhile
    return handedOver;
  };

  let released: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    stopped = true;
    killTree();
    await Promise.all([exited.catch(() => undefined), handedOver?.catch(() => undefined), othersOwned.catch(() => undefined)]);
    await quota?.stop();
    opts.signal?.removeEventListener('abort', onAbort);
    if (!released && child) runEnded();
    released ??= prepared?.release() ?? Promise.resolve();
    await released;
  };

  const runCommand = async (command: string, timeoutMs: number): Promise<SandboxResult> => {
    if (stopped) throw new Error('sandbox: run() after stop()');
    // NUL cannot be in a command line; the pipe must not carry what spawn would refuse.
    if (command.includes('\0')) throw new Error('sandbox: the command contains a NUL byte');
    const started = Date.now();
    const timeout = setTimeout(() => { timedOut = true; killTree(); }, timeoutMs);
    try {
      const [proc] = await Promise.all([launched, handOver()]);
      if (proc && !exitedAlready && !cancelled) {
        quota?.watch((used) => {
          diskQuotaExceeded = true;
          log(`sandbox: disk quota exceeded (${used} of ${opts.limits?.diskBytes ?? 0} bytes); the run is stopped`);
          killTree();
        });
        (proc.stdio[COMMAND_FD] as Writable | null)?.end(countedLines(command));
      }
      // Whichever is first: the report, or the run's own end (killed, or bwrap never started).
      const { exitCode, signal } = await Promise.race([commandEnded, exited]);
      const outOfMemory = (await prepared?.cgroup?.oomKills() ?? 0) > 0;
      return { exitCode, signal, timedOut, cancelled, diskQuotaExceeded, outOfMemory, durationMs: Date.now() - started };
    } catch (err) {
      await stop();
      throw err;
    } finally {
      clearTimeout(timeout);
      void quota?.stop(); // its end awaited by stop()
    }
  };

  return { started: launched.then(() => undefined, () => undefined), handOver, run: runCommand, stop };
}

export async function runSandboxed(opts: SandboxOptions): Promise<SandboxResult> {
  if (opts.signal?.aborted) {
    return { exitCode: null, signal: null, timedOut: false, cancelled: true, diskQuotaExceeded: false, outOfMemory: false, durationMs: 0 };
  }
  const sandbox = startSandbox(opts);
  try {
    return await sandbox.run(opts.command, opts.timeoutMs);
  } finally {
    await sandbox.stop();
  }
}
