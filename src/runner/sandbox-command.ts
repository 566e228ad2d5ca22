// The one command line that runs repository code (pure: unit-testable, and spawnable by callers
// that keep the process running detached, like the topology's app nodes). From the outside in:
//
//   unshare --mount (root only: a private mount namespace for the staging binds below)
//   /bin/sh SETUP   joins the run's cgroups, bind-mounts each bound dir onto a staging dir
//                   (root only; one `mount --all` of the run's own fstab, not one mount each),
//                   sets RLIMIT_FSIZE to the disk quota (ulimit, hard and soft: one file can
//                   never exceed it), opens the seccomp filter (seccomp.ts) as fd 3 for bwrap,
//                   merges stderr into stdout; all shell builtins but the one mount
//   setpriv         (root only) drops to the unprivileged sandbox account, no groups, no caps
//   pasta           (only when the run has a network) its own user+network namespace with
//                   user-mode networking: outbound through pasta's own sockets, the host's
//                   loopback unreachable (--no-map-gw), only the listed ports forwarded
//   bwrap           unprivileged: user, PID, IPC, UTS, cgroup (and network, without pasta)
//                   namespaces, read-only system, tmpfs over /tmp, /run and the hidden paths,
//                   workspace + writable paths bound read-write, --cap-drop ALL,
//                   --disable-userns, --new-session, --die-with-parent, the seccomp filter,
//                   exactly the given env; for a started sandbox, its status lines on a pipe
//                   of the host's that the sandbox never holds (sandbox-status.ts)
//   /bin/sh -c      the command; for a sandbox started before its command (sandbox.ts
//                   startSandbox) AWAIT_COMMAND, which reads it from a pipe, then execs it
//
// Why the staging: bubblewrap resolves bind sources with the caller's rights. Once it runs as
// the sandbox account, a workspace under a 0700 root-owned data dir is unreachable, so a root
// shell first binds it at a traversable staging path inside a mount namespace of its own.
// Everything up to bubblewrap depends on the run's limits and network alone, not on its dirs,
// when what is staged are roots the bound dirs lie under (SandboxPlacement.stagedRoots): a
// build's chain is so started ahead of its build (sandbox-ahead.ts), and bubblewrap, told its
// arguments then, binds the build's dirs from below the staged roots (<data>/work,
// <data>/caches). The dirs between a staged root and a bound dir are then traversable by all
// (0711): the data dir above them stays 0700, and only the run's own chain, in its own mount
// namespace, sees the staged roots; inside the sandbox they lie under a tmpfs.
import { relative, resolve, sep, join } from 'node:path';
import { existsSync } from 'node:fs';
import { readCountedLines } from './counted-lines.ts';
import { BWRAP, dropRights, PASTA, type SandboxHost } from './sandbox-host.ts';
import type { ResourceLimits } from './cgroup.ts';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** The head of a run's command line when Slipway runs as root: a mount namespace of its own for the staging binds. */
export const OWN_MOUNTS = ['/usr/bin/unshare', '--mount', '--propagation', 'private', '--'];

/**
 * Network of the run: 'none' (loopback only), 'outbound' (internet through user-mode
 * networking, never the host's loopback); hostPorts: host 127.0.0.1 ports reachable inside as
 * 127.0.0.1:<port>; publishPorts: ports the command listens on inside, reachable from the
 * host's 127.0.0.1:<port>.
 */
export interface NetworkOptions { outbound: boolean; hostPorts?: number[]; publishPorts?: number[] }

export interface SandboxLimits extends ResourceLimits {
  /** Disk quota of the workspace and writable paths together (watched), and the largest file. */
  diskBytes?: number;
}

/** What runs and where: everything that decides the command line. */
export interface SandboxSpec {
  command: string;
  /** Writable working directory; the command starts here. */
  workspace: string;
  /** The complete environment of the command (PATH included; nothing is inherited). */
  env: Record<string, string>;
  /** Directories to hide (Slipway's data dir, other runs' workspaces); the workspace stays visible. */
  hidePaths?: string[];
  /** Extra writable directories (a private HOME/TMPDIR). */
  writablePaths?: string[];
  /**
   * Writable directories kept from run to run that only runs write into (a pipeline's build
   * cache): bound like writablePaths, but made the sandbox account's only while their top is
   * not yet its, instead of walked at every run (a warm package cache holds many thousand files).
   */
  cachePaths?: string[];
  /** Directories shown read-only even under a hidden path (an app node's unpacked image). */
  readOnlyPaths?: string[];
  limits?: SandboxLimits;
  /** Default: no network at all (loopback only). */
  network?: NetworkOptions;
  /**
   * A process that must outlive Slipway (an app node started detached): no --die-with-parent.
   * Its end is then the caller's business (stop it, then PreparedSandbox.release()).
   */
  longLived?: boolean;
}

/** Per-run places prepared on the host (sandbox.ts prepareSandbox). */
export interface SandboxPlacement {
  /** cgroup.procs files the run joins before anything else starts. */
  cgroupProcs: string[];
  /**
   * The run's own dir on the host: SECCOMP_FILE, and (root only) the empty numbered sub-dirs
   * that receive the writable dirs (see header).
   */
  runDir: string;
  /** An fd of the run for bubblewrap's status lines (--json-status-fd; sandbox-status.ts). */
  statusFd?: number;
  /**
   * (root only) What is staged, each bound dir lying under one of them; default: the bound dirs
   * themselves. Roots make the staging independent of the run's dirs (see the header).
   */
  stagedRoots?: string[];
}

export const SECCOMP_FILE = 'seccomp.bpf';
const SECCOMP_FD = '3';
/**
 * The run's environment as bwrap arguments (`--setenv NAME VALUE`, NUL-separated), in a file of
 * the run dir that SETUP opens for bwrap's `--args`: never on a command line, which every
 * account of the host can read (`ps`, /proc/<pid>/cmdline), secrets included.
 */
export const ENV_FILE = 'env.args';
const ENV_FD = '6';

export interface SandboxCommand { argv: string[]; env: Record<string, string> }

/** The fd AWAIT_COMMAND reads the command from. */
export const COMMAND_FD = 4;

/**
 * The command of a sandbox started ahead of it: Slipway's own shell line, all builtins, that
 * waits until the command has arrived on COMMAND_FD (as counted lines: counted-lines.ts),
 * closes that fd and runs the command in this very shell, as `/bin/sh -c <command>` would, its
 * own variables gone (an exec less on the way to the command: bench build-overhead).
 * Nothing arrived, or not all of it (the host stopped the sandbox): nothing runs.
 */
export const AWAIT_COMMAND = `${readCountedLines(COMMAND_FD)}; eval "unset c; $c"`;

const SETUP = [
  's=$1; shift; e=$1; shift',
  'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n-1)); done',
  'f=$1; shift; if [ -n "$f" ]; then mount --all --fstab "$f" || exit 125; fi',
  'b=$1; shift; if [ -n "$b" ]; then ulimit -f "$b" || exit 125; fi',
  `exec "$@" 2>&1 ${SECCOMP_FD}<"$s" ${ENV_FD}<"$e"`,
].join('; ');

/** The run dir's fstab of the staging binds (root only), mounted at once by SETUP. */
export const STAGING_FSTAB = 'staging.fstab';

/** A path as an fstab field: whitespace and backslashes as octal escapes. */
function fstabField(path: string): string {
  return path.replace(/[\\ \t\n]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

/** The staging binds of a run as fstab lines: each staged dir onto its numbered dir in the run dir. */
export function stagingFstab(staged: string[], runDir: string): string {
  return staged.map((dir, i) => `${fstabField(dir)} ${fstabField(join(runDir, String(i)))} none bind 0 0\n`).join('');
}

/** Whether `path` is `dir` or lies below it (both absolute, resolved). */
export function isInside(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

/** Directories the sandbox replaces with its own tmpfs anyway. */
const PRIVATE_DIRS = ['/tmp', '/run'];

export function writableDirs(spec: Pick<SandboxSpec, 'workspace' | 'writablePaths' | 'cachePaths'>): string[] {
  return [...new Set([spec.workspace, ...(spec.writablePaths ?? []), ...(spec.cachePaths ?? [])].map((p) => resolve(p)))];
}

/** The cache dirs among writableDirs (resolved alike). */
export function cacheDirs(spec: Pick<SandboxSpec, 'cachePaths'>): string[] {
  return (spec.cachePaths ?? []).map((p) => resolve(p));
}

/** Everything bound into the sandbox, in staging order: the writable dirs, then the read-only ones. */
export function boundDirs(spec: Pick<SandboxSpec, 'workspace' | 'writablePaths' | 'cachePaths' | 'readOnlyPaths'>): { dir: string; writable: boolean }[] {
  const writable = writableDirs(spec);
  const readOnly = [...new Set((spec.readOnlyPaths ?? []).map((p) => resolve(p)))].filter((p) => !writable.includes(p));
  return [...writable.map((dir) => ({ dir, writable: true })), ...readOnly.map((dir) => ({ dir, writable: false }))];
}

/** Where bubblewrap finds `dir` (absolute) staged: below the numbered dir of the root it lies under. */
function stagedSource(dir: string, stage: Stage): string {
  const index = stage.roots.findIndex((root) => isInside(dir, root));
  if (index < 0) throw new Error(`sandbox: ${dir} lies under no staged root`);
  return join(stage.dir, String(index), relative(stage.roots[index] ?? '', dir));
}

/** A run's staging (root only): its dir, and the dirs staged there, in order. */
export interface Stage { dir: string; roots: string[] }

function usesPasta(network: NetworkOptions | undefined): boolean {
  return network !== undefined && (network.outbound || (network.hostPorts?.length ?? 0) > 0 || (network.publishPorts?.length ?? 0) > 0);
}

export function pastaArgs(network: NetworkOptions): string[] {
  const ports = (list: number[] | undefined): number[] => [...new Set(list ?? [])].filter((p) => Number.isInteger(p) && p > 0 && p < 65536);
  const publish = ports(network.publishPorts);
  const host = ports(network.hostPorts);
  return [
    PASTA, '--quiet', '--foreground',
    // Without it pasta maps the gateway address to the host's loopback: exactly what must not be reachable.
    '--no-map-gw',
    // Without a configured interface the namespace has loopback only; forwarded ports still work.
    ...(network.outbound ? ['--config-net'] : []),
    ...(publish.length > 0 ? publish.flatMap((p) => ['-t', `127.0.0.1/${p}`]) : ['-t', 'none']),
    '-u', 'none',
    '-T', host.length > 0 ? host.join(',') : 'none',
    '-U', 'none',
    '--',
  ];
}

/** Outbound access and no ports: a build's network, the one a chain started ahead has (sandbox-ahead.ts). */
export function outboundOnly(network: NetworkOptions | undefined): boolean {
  return network?.outbound === true && !network.hostPorts?.length && !network.publishPorts?.length;
}

/** The bwrap argument list. Order matters: bwrap applies mounts in order. */
export function bwrapArgs(spec: SandboxSpec, host: Pick<SandboxHost, 'uid' | 'gid'>, stage?: Stage): string[] {
  const workspace = resolve(spec.workspace);
  const args = [
    '--unshare-user', '--unshare-ipc', '--unshare-pid', '--unshare-uts', '--unshare-cgroup-try',
    // With pasta the run lives in pasta's network namespace; without, in an empty one.
    ...(usesPasta(spec.network) ? [] : ['--unshare-net']),
    '--uid', String(host.uid), '--gid', String(host.gid),
    '--disable-userns', '--cap-drop', 'ALL', '--new-session',
    ...(spec.longLived ? [] : ['--die-with-parent']),
    '--seccomp', SECCOMP_FD,
    '--ro-bind', '/', '/',
    ...(spec.limits?.diskBytes ? ['--size', String(spec.limits.diskBytes)] : []), '--tmpfs', '/tmp',
    '--tmpfs', '/run',
    '--proc', '/proc',
    '--dev', '/dev',
  ];
  // Hide first, then bind the workspace back in: a workspace under the data dir stays visible.
  for (const hidden of (spec.hidePaths ?? []).map((p) => resolve(p))) {
    if (hidden === '/' || PRIVATE_DIRS.some((d) => isInside(hidden, d)) || !existsSync(hidden)) continue;
    args.push('--tmpfs', hidden);
  }
  for (const { dir, writable } of boundDirs(spec)) args.push(writable ? '--bind' : '--ro-bind', stage ? stagedSource(dir, stage) : dir, dir);
  if (stage && !PRIVATE_DIRS.some((d) => isInside(stage.dir, d))) args.push('--tmpfs', stage.dir);
  // The environment comes from ENV_FILE (envArgs), not from this command line.
  args.push('--chdir', workspace, '--clearenv', '--args', ENV_FD);
  args.push('--', '/bin/sh', '-c', spec.command);
  return args;
}

/** ENV_FILE's content: exactly the run's environment (PATH by default), as bwrap arguments. */
export function envArgs(spec: Pick<SandboxSpec, 'env'>): string {
  const env = { PATH: DEFAULT_PATH, ...spec.env };
  if (Object.entries(env).some(([name, value]) => `${name}${value}`.includes('\0'))) throw new Error('sandbox: an environment variable contains a NUL byte');
  return Object.entries(env).flatMap(([name, value]) => ['--setenv', name, value]).map((arg) => `${arg}\0`).join('');
}

/** The staging of a run (root only): its run dir, and the staged dirs. */
export function stageOf(spec: Pick<SandboxSpec, 'workspace' | 'writablePaths' | 'cachePaths' | 'readOnlyPaths'>, placement: SandboxPlacement): Stage {
  return { dir: placement.runDir, roots: placement.stagedRoots ?? boundDirs(spec).map(({ dir }) => dir) };
}

/**
 * The head of a run's command line, up to bubblewrap: what depends on the run's limits and
 * network, not on its dirs or command (a build's chain is started ahead with it: sandbox-ahead.ts).
 */
export function chainHead(run: Pick<SandboxSpec, 'limits' | 'network'>, host: SandboxHost, placement: SandboxPlacement): string[] {
  if (!host.bwrap) throw new Error(`sandbox: ${BWRAP} not found (install the Debian package bubblewrap); repository code never runs without it`);
  if (usesPasta(run.network) && !host.pasta) throw new Error(`sandbox: ${PASTA} not found (install the Debian package passt); a run with a network needs it`);
  if (host.uid === 0) throw new Error('sandbox: no unprivileged account to run repository code as (run scripts/ensure-deps.sh as root)');
  // RLIMIT_FSIZE in the shell's unit (512-byte blocks), rounded down: never above the quota.
  const fsizeBlocks = run.limits?.diskBytes ? String(Math.floor(run.limits.diskBytes / 512)) : '';
  return [
    ...(host.runAs ? OWN_MOUNTS : []),
    '/bin/sh', '-c', SETUP, 'sandbox', join(placement.runDir, SECCOMP_FILE), join(placement.runDir, ENV_FILE),
    String(placement.cgroupProcs.length), ...placement.cgroupProcs,
    host.runAs ? join(placement.runDir, STAGING_FSTAB) : '', fsizeBlocks,
    ...(host.runAs ? dropRights(host.runAs) : []),
    ...(run.network && usesPasta(run.network) ? pastaArgs(run.network) : []),
  ];
}

/** The full command line of a run; throws when the machine cannot isolate it. */
export function sandboxCommand(spec: SandboxSpec, host: SandboxHost, placement: SandboxPlacement): SandboxCommand {
  const argv = [
    ...chainHead(spec, host, placement),
    BWRAP, ...(placement.statusFd === undefined ? [] : ['--json-status-fd', String(placement.statusFd)]),
    ...bwrapArgs(spec, host, host.runAs ? stageOf(spec, placement) : undefined),
  ];
  return { argv, env: { PATH: DEFAULT_PATH } };
}
