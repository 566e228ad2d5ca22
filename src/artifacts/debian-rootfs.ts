// Root filesystems made from Debian packages with mmdebstrap, from this machine's apt sources
// (the Debian archive is the only source of software these machines reach: no image can be
// pulled from a container registry). Runtime root filesystems carry no apt, no docs, man pages
// or locales, and an unprivileged user `app` (uid 10001). SOURCE_DATE_EPOCH=0 makes mmdebstrap
// write every time as 0 and sort its tar, so the same packages give the same bytes.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { writeRootfsLayer } from './rootfs-layer.ts';

export const APP_USER = { name: 'app', uid: 10001, gid: 10001 } as const;

/**
 * `essential`: Debian's Essential:yes set (sh, coreutils, dpkg; no apt) plus the packages.
 * `extract`: only the packages' files, no maintainer scripts (for a self-contained binary such
 * as busybox-static: the whole root filesystem is a few MB).
 */
export type RootfsVariant = 'essential' | 'extract';

export interface RootfsSpec {
  suite: string;
  variant: RootfsVariant;
  packages: readonly string[];
}

const DPKG_EXCLUDES = ['doc', 'man', 'info', 'locale', 'lintian', 'linda', 'help', 'bug'].map(
  (dir) => `--dpkgopt=path-exclude=/usr/share/${dir}/*`,
);

/** Adds the `app` user and a shell; runs as an mmdebstrap hook with $1 = the root. */
const CUSTOMIZE_SCRIPT = [
  'set -e',
  'mkdir -p "$1/etc" "$1/tmp" "$1/app" && chmod 1777 "$1/tmp"',
  '[ -e "$1/etc/passwd" ] || echo "root:x:0:0:root:/root:/bin/sh" > "$1/etc/passwd"',
  '[ -e "$1/etc/group" ] || echo "root:x:0:" > "$1/etc/group"',
  `grep -q '^${APP_USER.name}:' "$1/etc/passwd" || echo "${APP_USER.name}:x:${APP_USER.uid}:${APP_USER.gid}:app:/app:/usr/sbin/nologin" >> "$1/etc/passwd"`,
  `grep -q '^${APP_USER.name}:' "$1/etc/group" || echo "${APP_USER.name}:x:${APP_USER.gid}:" >> "$1/etc/group"`,
  // busybox-static alone has no /bin/sh: its applets become links (sh, httpd, ...).
  'if [ -x "$1/bin/busybox" ] && [ ! -e "$1/bin/sh" ]; then for a in $(chroot "$1" /bin/busybox --list); do [ -e "$1/bin/$a" ] || ln -s busybox "$1/bin/$a"; done; fi',
].join('\n');

/**
 * Paths left out of the layer: apt's configuration and state (mmdebstrap still needs them until
 * its own cleanup, so a hook cannot remove them), logs and backup files of the build, the info
 * index install-info writes, the host's hostname and resolv.conf (the runtime provides both),
 * and /dev's content (the runtime makes it).
 */
const EXCLUDED = /^(dev\/.|usr\/share\/info\/.|etc\/(hostname|resolv\.conf)$|etc\/apt(\/|$)|var\/lib\/apt(\/|$)|var\/cache\/apt(\/|$)|var\/log\/.|var\/cache\/debconf\/.*-old$|var\/lib\/dpkg\/.*-old$)/;

function excluded(relPath: string): boolean {
  return EXCLUDED.test(relPath);
}

/** This machine's Debian suite (VERSION_CODENAME of /etc/os-release), e.g. "bookworm". */
export function hostSuite(): string {
  const text = readFileSync('/etc/os-release', 'utf8');
  const suite = /^VERSION_CODENAME=("?)([a-z]+)\1$/m.exec(text)?.[2];
  if (!suite) throw new Error('/etc/os-release names no VERSION_CODENAME: cannot choose a Debian suite');
  return suite;
}

/** This machine's apt sources: /etc/apt/sources.list and the deb822/.list files beside it. */
export function hostAptSources(): string[] {
  const files: string[] = [];
  if (existsSync('/etc/apt/sources.list')) files.push('/etc/apt/sources.list');
  const dir = '/etc/apt/sources.list.d';
  if (existsSync(dir)) {
    for (const name of readdirSync(dir).sort()) {
      if (name.endsWith('.sources') || name.endsWith('.list')) files.push(join(dir, name));
    }
  }
  if (files.length === 0) throw new Error('no apt sources on this machine (/etc/apt/sources.list{,.d})');
  return files;
}

/**
 * mmdebstrap's own hook that merges /usr with symlinks (as debootstrap does) and installs
 * usr-is-merged; without it bookworm's init-system-helpers pulls usrmerge, and with it all of perl.
 */
const MERGED_USR_HOOKS = '/usr/share/mmdebstrap/hooks/merged-usr';

export function mmdebstrapArgs(spec: RootfsSpec, sources: readonly string[]): string[] {
  const { packages } = spec;
  return [
    `--variant=${spec.variant}`,
    '--mode=auto',
    '--format=tar',
    '--quiet',
    // Only what the packages need: Recommends would pull perl and friends into every image.
    '--aptopt=APT::Install-Recommends "false"',
    ...(packages.length > 0 ? [`--include=${packages.join(',')}`] : []),
    ...(spec.variant === 'essential' ? [`--hook-dir=${MERGED_USR_HOOKS}`] : []),
    ...DPKG_EXCLUDES,
    '--dpkgopt=path-include=/usr/share/doc/*/copyright',
    // mmdebstrap runs no customize hook for `extract` (nothing is installed): its extract hook then.
    `--${spec.variant === 'extract' ? 'extract' : 'customize'}-hook=${CUSTOMIZE_SCRIPT}`,
    spec.suite,
    '-', // the tar goes to stdout
    ...sources,
  ];
}

export class RootfsBuildError extends Error {
  constructor(message: string, readonly log: string) {
    super(message);
    this.name = 'RootfsBuildError';
  }
}

/** Builds the root filesystem and writes it as a reproducible layer tar at outPath. */
export async function buildRootfsLayer(spec: RootfsSpec, outPath: string, opts: { sources?: readonly string[]; signal?: AbortSignal } = {}): Promise<void> {
  const child = spawn('mmdebstrap', mmdebstrapArgs(spec, opts.sources ?? hostAptSources()), {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', SOURCE_DATE_EPOCH: '0', LC_ALL: 'C.UTF-8' },
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  let log = '';
  child.stderr.on('data', (chunk: Buffer) => { log = (log + chunk.toString('utf8')).slice(-8000); });
  const exited = new Promise<number | null>((resolve) => {
    child.on('error', (err) => { log += `\n${err.message}`; resolve(null); });
    child.on('close', (code) => resolve(code));
  });
  let writeError: unknown;
  try {
    await writeRootfsLayer(child.stdout as Readable, outPath, excluded);
  } catch (err) {
    writeError = err;
    child.kill('SIGTERM');
  }
  const code = await exited;
  if (code !== 0) throw new RootfsBuildError(`mmdebstrap ${spec.variant} ${spec.packages.join(',')} failed (exit ${code ?? 'none'}): ${log.trim().split('\n').slice(-3).join(' | ')}`, log);
  if (writeError) throw writeError;
}
