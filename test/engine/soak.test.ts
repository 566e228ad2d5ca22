// Soak as an invariant (the figures themselves are the soak benchmark's): executions back to
// back through the API leave no processes behind (but the launchers, the next build's chain
// among them) and do not pile up file descriptors.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { launcherPids } from '../../src/runner/launcher.ts';
import { childrenOf, forkedAhead, soak, type ProcessFigures } from '../support/soak.ts';

describe('soak', () => {
  it('60 executions back to back: all finish, no child process left, open file descriptors do not grow', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'slipway-soak-'));
    const before = new Set(childrenOf(process.pid));
    const samples = new Map<number, ProcessFigures>();
    const statuses = await soak(dataDir, 60, [10, 60], (n, f) => samples.set(n, f));
    expect(statuses.filter((s) => s !== 'FINISHED')).toEqual([]);
    const early = samples.get(10)!;
    const late = samples.get(60)!;
    // Generous: a few descriptors may come and go (a log being closed, the database's WAL); a
    // leak of one per execution would add 50.
    expect(late.fds - early.fds).toBeLessThanOrEqual(10);
    expect(late.children).toBeLessThanOrEqual(early.children);
    // Forked ahead by design: the launchers of the next run's wrapper and meter, and the next
    // build's chain; never more.
    expect(childrenOf(process.pid).filter((pid) => !before.has(pid) && !forkedAhead().includes(pid))).toEqual([]);
    expect(launcherPids().length).toBeLessThanOrEqual(3);
    rmSync(dataDir, { recursive: true, force: true });
  }, 300_000);
});
