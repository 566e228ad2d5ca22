// Executions back to back through the API on a no-op twin of the demo pipeline (every step
// finishes at once after a log line), with the process's figures sampled along the way: the
// soak benchmark prints them, the soak test bounds their growth.
import { readdirSync, readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { buildServer } from '../../src/api/server.ts';
import { createSlipway } from '../../src/app.ts';
import { STEP_ACTIONS } from '../../src/domain/model.ts';
import type { SlipwayEvent } from '../../src/events/bus.ts';
import type { HandlerRegistry } from '../../src/steps/handler.ts';
import { launcherPids } from '../../src/runner/launcher.ts';
import { seedPipeline } from './seed.ts';

export interface ProcessFigures {
  rssMb: number;
  heapMb: number;
  /** Open file descriptors (/proc/self/fd). */
  fds: number;
  /** Live processes whose parent is this one, but those kept for the next run (forkedAhead). */
  children: number;
}

/** A full garbage collection, so the heap figure is what is still referenced (no --expose-gc needed). */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

export function processFigures(): ProcessFigures {
  collectGarbage();
  const mem = process.memoryUsage();
  return {
    rssMb: mem.rss / 2 ** 20,
    heapMb: mem.heapUsed / 2 ** 20,
    fds: readdirSync('/proc/self/fd').length,
    children: childrenOf(process.pid).filter((pid) => !forkedAhead().includes(pid)).length,
  };
}

/** Children of this process by design: the launchers (runner/launcher.ts), a build's chain started ahead among them (runner/sandbox-ahead.ts). */
export function forkedAhead(): number[] {
  return launcherPids();
}

/** Pids whose parent is `pid` (zombies included: an unreaped child is a leak too). */
export function childrenOf(pid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      // Field 4 of /proc/<pid>/stat, after the parenthesised command name.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) found.push(Number(entry));
    } catch { /* gone meanwhile */ }
  }
  return found;
}

const noOpHandlers = (): HandlerRegistry => Object.fromEntries(STEP_ACTIONS.map((action) => [action, {
  action, idempotent: true,
  run: async (ctx) => {
    ctx.log.line(`${action}: nothing to do`);
    return { outcome: 'finished' as const };
  },
}]));

const TOKEN = 'soak-admin-token-0123456789abcdef';

/**
 * Runs `count` executions one after the other (each started through the API once the previous
 * one has ended) and calls `sample` after the executions numbered in `at` (1-based).
 * Returns the statuses the executions ended with.
 */
export async function soak(
  dataDir: string, count: number, at: number[], sample: (n: number, figures: ProcessFigures) => void,
): Promise<string[]> {
  const slipway = await createSlipway({ dataDir }, { handlers: noOpHandlers() });
  const app = await buildServer(slipway, { adminToken: TOKEN });
  // A real socket, as clients use it (app.inject keeps its mock requests reachable).
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const statuses: string[] = [];
  try {
    const pipeline = await seedPipeline(slipway, { options: { approval: false } });
    for (let n = 1; n <= count; n++) {
      const ended = new Promise<string>((resolve) => {
        const stop = slipway.rt.bus.subscribe((e: SlipwayEvent) => {
          if (e.type !== 'execution.ended' || e.pipelineId !== pipeline.id) return;
          stop();
          resolve(e.status);
        });
      });
      const started = await fetch(`${url}/api/program/${pipeline.programId}/pipeline/${pipeline.id}/execution`, {
        method: 'PUT', headers: { authorization: `Bearer ${TOKEN}` },
      });
      const body = await started.text();
      if (started.status !== 201) throw new Error(`execution ${n} did not start: ${started.status} ${body}`);
      statuses.push(await ended);
      if (at.includes(n)) sample(n, processFigures());
    }
  } finally {
    await app.close();
    await slipway.close();
  }
  return statuses;
}
