// The disk quota, with the real du: one meter process, forked when the quota is made, measures
// a run's dirs for the whole watch (no fork of Slipway per measurement), a killed meter is
// replaced, and stop() ends it.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { diskQuota, diskUsage, METER_LAUNCH, nextPause, type DiskQuota } from '../../src/runner/disk-quota.ts';
import { launcherPid, warmUpLauncher } from '../../src/runner/launcher.ts';
import { eventually } from '../support/eventually.ts';
import { childrenOf } from '../support/soak.ts';

/** The pids of this process's children that are a meter of `dir`, spawned. */
function meters(dir: string): number[] {
  return childrenOf(process.pid).filter((pid) => {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return argv[0] === '/bin/sh' && argv.includes(dir);
    } catch {
      return false; // ended meanwhile
    }
  });
}

describe('disk quota', () => {
  let dir = '';
  let quota: DiskQuota | undefined;
  afterEach(async () => {
    await quota?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('forks its meter at once, measures with it for the whole watch, and ends it on stop()', async () => {
    dir = mkdtempSync(join(tmpdir(), 'slipway-quota-'));
    const before = await diskUsage([dir]);
    expect(before).toBeGreaterThan(0);
    await eventually(() => meters(dir).length === 0); // the one-shot's meter ends with its answer
    let exceeded: number | undefined;
    quota = diskQuota([dir], (before ?? 0) + 1024 ** 2);
    await eventually(() => meters(dir).length === 1);
    const [meter] = meters(dir);
    quota.watch((used) => { exceeded = used; });
    // Two more seconds: at least one more measurement, by the same process.
    await new Promise((r) => setTimeout(r, 2200));
    expect(meters(dir)).toEqual([meter]);
    expect(exceeded).toBeUndefined();
    await quota.stop();
    expect(meters(dir)).toEqual([]);
  });

  it('stops a run that outgrew the quota, also after its meter was killed', async () => {
    dir = mkdtempSync(join(tmpdir(), 'slipway-quota-'));
    let exceeded: number | undefined;
    quota = diskQuota([dir], 4 * 1024 ** 2);
    await eventually(() => meters(dir).length === 1);
    const [killed] = meters(dir);
    process.kill(killed ?? 0, 'SIGKILL');
    await eventually(() => !meters(dir).includes(killed ?? 0));
    quota.watch((used) => { exceeded = used; });
    writeFileSync(join(dir, 'big'), Buffer.alloc(8 * 1024 ** 2, 1));
    await eventually(() => exceeded !== undefined);
    expect(exceeded).toBeGreaterThan(4 * 1024 ** 2);
    // Exceeded, the watch is over: its meter ends.
    await eventually(() => meters(dir).length === 0);
  });

  it('takes the meter forked ahead, if one waits: the quota then forks nothing', async () => {
    dir = mkdtempSync(join(tmpdir(), 'slipway-quota-'));
    warmUpLauncher(METER_LAUNCH);
    const waiting = await eventually(() => launcherPid(METER_LAUNCH), 10_000, 'a meter forked ahead');
    const before = childrenOf(process.pid);
    let exceeded: number | undefined;
    quota = diskQuota([dir], 4 * 1024 ** 2);
    expect(launcherPid(METER_LAUNCH)).toBeUndefined();
    quota.watch((used) => { exceeded = used; });
    writeFileSync(join(dir, 'big'), Buffer.alloc(8 * 1024 ** 2, 1));
    await eventually(() => exceeded !== undefined);
    expect(exceeded).toBeGreaterThan(4 * 1024 ** 2);
    expect(childrenOf(process.pid).filter((pid) => !before.includes(pid))).toEqual([]);
    // Exceeded, the watch is over: the meter it took ends.
    await eventually(() => !childrenOf(process.pid).includes(waiting));
  });
});

describe('the pause before the next measurement', () => {
  const MB = 1024 ** 2;
  const at = (atMs: number, usedMb: number) => ({ atMs, usedBytes: usedMb * MB });
  it.each([
    ['the first measurement: a second', { tookMs: 3, last: undefined, now: at(0, 10), quotaBytes: 256 * MB }, 1000],
    ['no growth: a second', { tookMs: 3, last: at(0, 10), now: at(1000, 10), quotaBytes: 256 * MB }, 1000],
    ['slow growth, far from the quota: a second', { tookMs: 3, last: at(0, 10), now: at(1000, 20), quotaBytes: 256 * MB }, 1000],
    ['fast growth: half the time to the quota', { tookMs: 3, last: at(0, 0), now: at(1000, 200), quotaBytes: 256 * MB }, 140],
    ['at the quota\'s edge: never under 100 ms', { tookMs: 3, last: at(0, 0), now: at(1000, 250), quotaBytes: 256 * MB }, 100],
    ['a big tree: at least 10× what its measurement took', { tookMs: 500, last: at(0, 0), now: at(1000, 200), quotaBytes: 256 * MB }, 5000],
    ['a failed measurement: a second', { tookMs: 3, last: at(0, 0), now: undefined, quotaBytes: 256 * MB }, 1000],
  ])('%s', (_what, input, pause) => {
    expect(nextPause(input)).toBe(pause);
  });
});
