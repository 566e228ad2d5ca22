// How Slipway hands a command line or a command to its waiting shells (runner/counted-lines.ts):
// read back exactly, acted on without waiting for the pipe's end (which Node gives only at a
// later turn of its event loop), and never acted on when it arrives cut short.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countedLines, readCountedLines } from '../../src/runner/counted-lines.ts';
import { launch, launcherPid, warmUpLauncher, type LaunchOptions } from '../../src/runner/launcher.ts';
import { eventually } from '../support/eventually.ts';

let root: string;
beforeAll(() => { root = mkdtempSync(join(tmpdir(), 'slipway-counted-lines-')); });
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A shell that reads a text from its fd 3 (readCountedLines), then runs `then`. */
function reader(then: string): { child: ChildProcess; input: Writable; ended: Promise<{ code: number | null; out: string }> } {
  const child = spawn('/bin/sh', ['-c', `${readCountedLines(3)}; ${then}`], { cwd: root, stdio: ['ignore', 'pipe', 'inherit', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => { out += c.toString('utf8'); });
  const ended = new Promise<{ code: number | null; out: string }>((resolve) => child.on('close', (code) => resolve({ code, out })));
  return { child, input: child.stdio[3] as Writable, ended };
}

/**
 * Blocks this process's event loop (as a busy build step does) until `file` exists or the bound
 * passes: whether it appeared meanwhile. The bound only keeps a broken reader from hanging.
 */
function appearsWhileBlocked(file: string): boolean {
  const bound = Date.now() + 10_000;
  while (Date.now() < bound) if (existsSync(file)) return true;
  return false;
}

describe('counted lines', () => {
  it('are read back exactly: quotes, backslashes, blank and indented lines, a trailing newline', async () => {
    const text = `printf '%s' "it's"\n\n  back\\slash \\n\t$HOME\n`;
    const { input, ended } = reader('printf %s "$c"');
    input.end(countedLines(text));
    const { code, out } = await ended;
    expect(code).toBe(0);
    // Each line comes back ended by a newline, the last one included.
    expect(out).toBe(`${text}\n`);
  });

  it('cut short (the pipe ends before the last line), nothing runs', async () => {
    const { input, ended } = reader('echo ran');
    input.end('3\necho one\necho two\n');
    expect(await ended).toEqual({ code: 125, out: '' });
    const empty = reader('echo ran');
    empty.input.end();
    expect(await empty.ended).toEqual({ code: 125, out: '' });
  });

  it("are acted on while Slipway's event loop is still busy after writing them", async () => {
    const marker = join(root, 'read');
    const { input, ended } = reader(`: > ${marker}`);
    input.end(countedLines('a command\nof two lines'));
    expect(appearsWhileBlocked(marker)).toBe(true);
    expect((await ended).code).toBe(0);
  });

  it("a launcher execs the command line it is told while Slipway's event loop is still busy", async () => {
    const options: LaunchOptions = { env: { PATH: '/usr/bin:/bin' }, stdio: ['ignore', 'ignore', 'ignore'] };
    warmUpLauncher(options);
    const waiting = await eventually(() => launcherPid(options), 10_000, 'a launcher');
    const marker = join(root, 'launched');
    const child = launch(['/bin/sh', '-c', 'echo "$1" > "$2"', 'sh', 'two\nlines', marker], options);
    expect(child.pid).toBe(waiting);
    expect(appearsWhileBlocked(marker)).toBe(true);
    await new Promise((resolve) => child.on('close', resolve));
    expect(readFileSync(marker, 'utf8')).toBe('two\nlines\n');
  });
});
