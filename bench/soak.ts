// Soak (figures printed, nothing asserted): 200 executions back to back through the HTTP API on a
// no-op twin of the demo pipeline (SQLite), with memory, open file descriptors and child
// processes at the 20th and the 200th. Goal: flat from the 20th to the 200th.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { soak } from '../test/support/soak.ts';

export async function run(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'slipway-bench-soak-'));
  try {
    console.log('soak: 200 executions back to back (no-op demo pipeline, SQLite, started over HTTP)');
    const statuses = await soak(dataDir, 200, [20, 200], (n, f) => {
      console.log(`  after ${String(n).padStart(3)}: rss ${f.rssMb.toFixed(1)} MB, heap ${f.heapMb.toFixed(1)} MB, ${f.fds} open fds, ${f.children} child processes`);
    });
    const unfinished = statuses.filter((s) => s !== 'FINISHED').length;
    console.log(`  ${statuses.length} executions, ${unfinished} not FINISHED`);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
