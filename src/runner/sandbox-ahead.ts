// A build's sandbox started ahead of the build, up to bubblewrap: its cgroups and run dir
// prepared, and its chain (sandbox-command.ts: the mount namespace, SETUP joining the cgroups
// and staging <data>/work and <data>/caches, setpriv, pasta's network) launched as far as a
// launcher (launcher.ts) that waits for the rest of the command line, bubblewrap's arguments.
// What is left on the way to a build's command is bubblewrap itself: the execs before it and
// pasta's start (~150 ms in all, ~45 ms of it on the build's way with a pasta started ahead
// before; bench: build-overhead) are taken before the build starts.
// A chain fits a run with the limits and network it was prepared for (a build's: outbound
// access, no ports) whose dirs lie under the data dir's staged roots; the run's environment goes
// into the ENV_FILE the chain holds open already. One chain waits at a time, used by one run: a
// second build at once starts its own chain, as without. The next is prepared when no run is
// left (sandbox.ts: a second after the last one ended; its start disturbs what runs beside it),
// and the first when a process that runs builds starts (warmUpAhead). A chain left waiting when
// Slipway exits ends with it (its launcher reads the end of its pipe); its run dir is removed
// then (or, Slipway killed, by the next process's sweep), its cgroups at the next start
// (cgroup.ts).
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { childrenOf } from './container-net.ts';
import { launcherPid, warmUpLauncher, type LaunchOptions } from './launcher.ts';
import { boundDirs, chainHead, isInside, outboundOnly, type SandboxLimits, type SandboxSpec } from './sandbox-command.ts';
import { sandboxHost } from './sandbox-host.ts';
import { prepareChain, removeRunDir, type PreparedChain } from './sandbox-prepare.ts';

/** What chains are prepared for: the data dir whose work and caches dirs builds bind, and their limits. */
export interface AheadConfig { dataDir: string; limits: SandboxLimits }

/** A chain waiting for its run: prepared, and launched with `launch` (its prefix: the chain's head). */
export interface AheadChain { chain: PreparedChain; launch: LaunchOptions }

const NETWORK = { outbound: true };
/** The data dir's dirs that builds' dirs lie under (engine/context.ts, runner/build-cache.ts). */
const ROOTS = ['work', 'caches'];

let config: AheadConfig | undefined;
let launchOf: ((prefix: string[]) => LaunchOptions) | undefined;
let waiting: AheadChain | undefined;
let preparing = false;

/** Ends a chain never used: its launcher and whatever it started, then its cgroups and run dir (again: idempotent). */
export function discardAhead(ahead: AheadChain): void {
  const pid = launcherPid(ahead.launch);
  if (pid !== undefined) { try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ } }
  void ahead.chain.release();
}

async function prepare(): Promise<void> {
  const host = sandboxHost();
  const wanted = config;
  if (!wanted || !launchOf || waiting || preparing || !host.bwrap || !host.pasta) return;
  preparing = true;
  try {
    const roots = ROOTS.map((dir) => join(resolve(wanted.dataDir), dir));
    for (const root of roots) mkdirSync(root, { recursive: true });
    const chain = await prepareChain(wanted.limits, { dirs: roots, roots: true }, (line) => console.warn(line), 'ahead');
    const ahead = { chain, launch: launchOf(chainHead({ limits: wanted.limits, network: NETWORK }, host, { cgroupProcs: chain.cgroup?.procsFiles ?? [], runDir: chain.runDir })) };
    // Configured anew meanwhile (another data dir): this one is for nobody.
    if (config !== wanted) return discardAhead(ahead);
    warmUpLauncher(ahead.launch);
    waiting = ahead;
  } catch (err) {
    console.warn(`sandbox: no build sandbox prepared ahead: ${(err as Error).message}`);
  } finally {
    preparing = false;
  }
}

/**
 * Chains are prepared for builds with `ahead`'s data dir and limits from now on, each launched
 * with `launch(its head)`; the first at once.
 */
export function warmUpAhead(ahead: AheadConfig, launch: (prefix: string[]) => LaunchOptions): void {
  launchOf = launch;
  if (!isDeepStrictEqual(config, ahead)) {
    config = ahead;
    if (waiting) discardAhead(waiting);
    waiting = undefined;
  }
  void prepare();
}

/** What the chain's head runs once it has exec'd as far as pasta (which re-execs as passt.avx2 where it can). */
const PASTA_COMM = /^pas(ta|st)/;

/**
 * Whether a chain waits, all of it up: its launcher's shell runs, pasta's child once pasta has
 * set up the network (~100 ms after pasta's start; a `passt` child waits meanwhile). Before
 * pasta, the chain's SETUP shell forks children of its own (`mount`), each a `sh` too until
 * its exec: hence the head's own name first. For the bench and tests: nothing of the chain
 * starts beside a run.
 */
export function aheadReady(): boolean {
  if (config === undefined) return true;
  const pid = aheadPid();
  return pid !== undefined && PASTA_COMM.test(commOf(pid) ?? '') && childrenOf(pid).some((child) => commOf(child) === 'sh');
}

/** The waiting chain's launcher (its pasta, once up): a child of this process by design (for tests and operators). */
export function aheadPid(): number | undefined {
  return waiting && launcherPid(waiting.launch);
}

function commOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The waiting chain, taken by `spec` when it fits it (see the header); undefined otherwise. */
export function takeAhead(spec: SandboxSpec): AheadChain | undefined {
  const ahead = waiting;
  if (!ahead || !config || spec.longLived || !outboundOnly(spec.network) || !isDeepStrictEqual(spec.limits, config.limits)) return undefined;
  const roots = ahead.chain.stagedRoots ?? [];
  if (!boundDirs(spec).every(({ dir }) => roots.some((root) => dir !== root && isInside(dir, root)))) return undefined;
  waiting = undefined;
  // Checked now, not when it was launched: a chain that died since (pasta refused) runs nothing.
  if (launcherPid(ahead.launch) === undefined) {
    discardAhead(ahead);
    return undefined;
  }
  return ahead;
}

/** The next chain, unless one waits (sandbox.ts: a second after the last run ended). */
export function prepareAhead(): void {
  void prepare();
}

// The waiting chain's run dir, when this process exits: nobody else would remove it.
process.on('exit', () => {
  if (waiting) removeRunDir(waiting.chain.runDir);
});
