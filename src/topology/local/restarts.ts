// How the servers of an environment, its Varnish dispatchers and its HAProxy, are brought up and
// brought back: started again until they answer (a predecessor may still hold the port), and
// restarted once when found dead, however many callers find them dead at the same moment
// (dispatchers.ts and load-balancer.ts use both).
import { join } from 'node:path';
import { waitFor } from './http.ts';
import { isOurProcess, type ProcessRecord } from './proc.ts';
import type { ProvisionedEnv } from './provisioned-env.ts';
import { loadState, type TopologyState } from './state.ts';

/**
 * Restarts of a dispatcher or a load balancer in flight in this Slipway, by state dir and node:
 * the supervisor and a deploy or adopt (each with its own EnvRuntime) may find it dead at once.
 */
const restarts = new Map<string, Promise<void>>();

/**
 * Restarts server `name` of `env` if it is dead, one restart per node at a time: a caller that
 * finds one in flight waits for it and takes the record it saved (`refresh`). True if the node
 * had to be restarted.
 */
export async function restartIfDead(env: ProvisionedEnv, name: string, current: () => ProcessRecord | undefined,
  refresh: (saved: TopologyState) => void, start: () => Promise<void>): Promise<boolean> {
  const key = join(env.state.dir, name);
  let waited = false;
  for (let running = restarts.get(key); running; running = restarts.get(key)) {
    waited = true;
    await running.catch(() => undefined);
    const saved = await loadState(env.state.dir);
    if (saved) refresh(saved);
  }
  if (isOurProcess(current())) return waited;
  env.opts.log(`${name}: not running, restarting`);
  const restart = start().finally(() => restarts.delete(key));
  restarts.set(key, restart);
  await restart;
  return true;
}

/**
 * Starts a server process until it answers. One that exits at once is started again a few
 * times: a predecessor killed a moment ago (its worker children die after it) can still hold
 * the port or the work directory.
 */
export async function startUntilUp(
  start: () => ProcessRecord, ready: () => Promise<boolean>, timeoutMs: number,
): Promise<boolean> {
  for (let attempt = 1; attempt <= 4; attempt++) {
    if (attempt > 1) await new Promise((r) => setTimeout(r, 500 * attempt));
    const record = start();
    if (await waitFor(ready, { timeoutMs, intervalMs: 50, giveUp: () => !isOurProcess(record) })) return true;
    if (isOurProcess(record)) return false; // alive but not answering: starting another would not help
  }
  return false;
}
