// The launcher (runner/launcher.ts): a process forked ahead that execs a run's command line when
// told it, so that the run is that process, with exactly its arguments and stdio.
import type { ChildProcess } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { launch, launcherPid, warmUpLauncher, type LaunchOptions } from '../../src/runner/launcher.ts';
import { shellQuote } from '../../src/runner/node-script.ts';
import { eventually } from '../support/eventually.ts';

const options: LaunchOptions = { env: { PATH: '/usr/bin:/bin' }, stdio: ['ignore', 'pipe', 'pipe', 'ignore'] };

function output(child: ChildProcess): Promise<{ out: string; code: number | null }> {
  const chunks: Buffer[] = [];
  child.stdout?.on('data', (c: Buffer) => chunks.push(c));
  return new Promise((resolve) => child.on('close', (code) => resolve({ out: Buffer.concat(chunks).toString('utf8'), code })));
}

describe('launcher', () => {
  it('a quoted word is read back as exactly the argument', () => {
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });

  it('execs exactly the command line it is told, as its own process, with the run\'s stdio and nothing of its own', async () => {
    warmUpLauncher(options);
    const waiting = await eventually(() => launcherPid(options), 10_000, 'a launcher');
    const args = ['a b', "it's", 'two\nlines', '$HOME `id` $(id)', 'back\\slash', ''];
    const child = launch(['/bin/sh', '-c', 'printf "[%s]" "$@"; [ -e /proc/self/fd/7 ] && echo fd7-open; echo " pgid=$(cut -d" " -f5 /proc/$$/stat)"', 'sh', ...args], options);
    expect(child.pid).toBe(waiting);
    const { out, code } = await output(child);
    expect(code).toBe(0);
    expect(out).toContain(args.map((a) => `[${a}]`).join(''));
    expect(out).not.toContain('fd7-open');
    // Its own process group (detached), as a spawned run's.
    expect(out).toContain(`pgid=${child.pid}\n`);
  });

  it('a launcher serves one run, the next is forked when the sandbox says; a run with other options is spawned, not launched', async () => {
    warmUpLauncher(options);
    const first = await eventually(() => launcherPid(options), 10_000, 'a launcher');
    const taken = launch(['/bin/true'], options);
    expect(taken.pid).toBe(first);
    await output(taken);
    // None is forked beside the run (see escape.test.ts), only when told after it.
    expect(launcherPid(options)).toBeUndefined();
    warmUpLauncher(options);
    const next = await eventually(() => launcherPid(options), 10_000, 'the next launcher');
    expect(next).not.toBe(first);
    const other = launch(['/bin/echo', 'spawned'], { ...options, env: { PATH: '/bin' } });
    expect(other.pid).not.toBe(next);
    expect((await output(other)).out).toBe('spawned\n');
    expect(launcherPid(options)).toBe(next);
  });

  it('runs the head of its command lines ahead, and a /bin/sh -c script in its own shell', async () => {
    const ownMounts: LaunchOptions = { ...options, prefix: ['/usr/bin/unshare', '--mount', '--propagation', 'private', '--'] };
    warmUpLauncher(ownMounts);
    const waiting = await eventually(() => launcherPid(ownMounts), 10_000, 'a launcher');
    const child = launch([...ownMounts.prefix ?? [], '/bin/sh', '-c', 'readlink /proc/$$/ns/mnt; tr "\\0" " " < /proc/$$/cmdline; echo; echo "[$*]"', 'sh', 'a b', 'c'], ownMounts);
    expect(child.pid).toBe(waiting);
    const { out, code } = await output(child);
    expect(code).toBe(0);
    const lines = out.trim().split('\n');
    // (The launcher's own command line holds a newline.)
    const [namespace, args, cmdline] = [lines[0], lines.at(-1), lines.slice(1, -1).join('\n')];
    // The mount namespace unshare made when the launcher was forked, not this process's.
    expect(namespace).toMatch(/^mnt:\[\d+\]$/);
    expect(namespace).not.toBe(readlinkSync('/proc/self/ns/mnt'));
    // The script ran in the launcher's shell (no exec), with its arguments.
    expect(cmdline).toContain('read -r l');
    expect(args).toBe('[a b c]');
  });
});
