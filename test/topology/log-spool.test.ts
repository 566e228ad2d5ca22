// Spools into day files: complete lines only, per UTC day, capped per day, old days deleted,
// and a spool truncated once collected (the writer appends, so it goes on at the new end).
import { appendFileSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lastDays } from '../../src/topology/driver.ts';
import { collectSpools, dayFile } from '../../src/topology/local/log-spool.ts';

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'slw-spool-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const limits = { dayCapBytes: 200, spoolMaxBytes: 50, keepDays: 2 };
const day1 = new Date('2026-03-01T23:59:58Z');
const day2 = new Date('2026-03-02T00:00:03Z');
const read = (date: string, stream = 'node') => readFileSync(dayFile(dir, date, stream), 'utf8');

describe('collectSpools', () => {
  it('moves complete lines into the day they were collected on and truncates a collected spool', async () => {
    // The writer keeps its O_APPEND descriptor across truncation, as a node process does.
    const fd = openSync(join(dir, 'node.log'), 'a');
    writeSync(fd, 'first line\nsecond li');
    await collectSpools(dir, ['node', 'absent'], day1, limits);
    expect(read('2026-03-01')).toBe('first line\n');

    writeSync(fd, 'ne\n');
    await collectSpools(dir, ['node'], day2, limits);
    expect(read('2026-03-01')).toBe('first line\n');
    expect(read('2026-03-02')).toBe('second line\n');

    writeSync(fd, `${'x'.repeat(60)}\n`);
    await collectSpools(dir, ['node'], day2, limits);
    expect(statSync(join(dir, 'node.log')).size).toBe(0); // more than spoolMaxBytes collected
    writeSync(fd, 'after truncation\n');
    closeSync(fd);
    await collectSpools(dir, ['node'], day2, limits);
    expect(read('2026-03-02')).toBe(`second line\n${'x'.repeat(60)}\nafter truncation\n`);
    expect(existsSync(dayFile(dir, '2026-03-01', 'absent'))).toBe(false);
  });

  it('caps a day file with one marker line and drops the rest of that day', async () => {
    const spool = join(dir, 'node.log');
    for (let i = 0; i < 30; i++) appendFileSync(spool, `line ${String(i).padStart(3, '0')}\n`);
    await collectSpools(dir, ['node'], day1, { ...limits, spoolMaxBytes: 1e9 });
    appendFileSync(spool, 'more of the same day\n');
    await collectSpools(dir, ['node'], day1, { ...limits, spoolMaxBytes: 1e9 });
    const text = read('2026-03-01');
    const lines = text.trimEnd().split('\n');
    expect(lines.at(-1)).toMatch(/reached its cap of 200 bytes/);
    expect(text.length - (lines.at(-1)?.length ?? 0) - 1).toBeLessThanOrEqual(200);
    expect(text).not.toContain('more of the same day');
    expect(lines.filter((l) => l.includes('cap'))).toHaveLength(1);
    appendFileSync(spool, 'next day\n');
    await collectSpools(dir, ['node'], day2, { ...limits, spoolMaxBytes: 1e9 });
    expect(read('2026-03-02')).toBe('next day\n');
  });

  it('keeps only the last days, and only the last cap of a spool nobody collected for long', async () => {
    const spool = join(dir, 'node.log');
    appendFileSync(spool, 'old\n');
    await collectSpools(dir, ['node'], new Date('2026-02-20T12:00:00Z'), limits);
    appendFileSync(spool, `${'y'.repeat(99)}\n`.repeat(5)); // 500 bytes > the cap of 200
    await collectSpools(dir, ['node'], day2, limits);
    expect(existsSync(join(dir, 'days', '2026-02-20'))).toBe(false);
    const text = read('2026-03-02');
    expect(text).toMatch(/^\[slipway\] 300 bytes written while nothing collected them were skipped\n(y{99}\n)+/);
    expect(text).toContain('y'.repeat(99));
  });

  it('lists the last days newest first', () => {
    expect(lastDays(day2, 3)).toEqual(['2026-03-02', '2026-03-01', '2026-02-28']);
  });
});
