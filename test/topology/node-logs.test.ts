// The local driver's log readers are real processes: they survive a varnishd killed and
// restarted by adopt (and so does the day's access log), adopt restarts a reader that died,
// and destroy stops them all.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpGet } from '../../src/topology/local/http.ts';
import { pidAlive } from '../../src/runner/pids.ts';
import { isOurProcess, type ProcessRecord } from '../../src/topology/local/proc.ts';
import { loadState } from '../../src/topology/local/state.ts';
import { deployedEnvironment, waitUntil, type DeployedEnvironment } from './support.ts';

let de: DeployedEnvironment;
beforeAll(async () => { de = await deployedEnvironment('logs', 1, { logs: { collectEveryMs: 0 } }); }, 120_000);
afterAll(async () => { await de?.teardown(); });

const readers = (): Record<string, ProcessRecord> =>
  JSON.parse(readFileSync(join(de.driver.envDir(de.env), 'logs', 'loggers.json'), 'utf8')) as Record<string, ProcessRecord>;

async function logHas(path: string, name = 'httpdaccess'): Promise<boolean> {
  const [day] = await de.driver.logs.days(de.env, { service: 'dispatcher', name }, new Date().toISOString().slice(0, 10));
  const file = day && await de.driver.logs.open(de.env, day.stream, day.date);
  return file !== undefined && readFileSync(file.path, 'utf8').includes(path);
}

async function requestUntilLogged(port: number, path: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!await logHas(path)) {
    if (Date.now() > deadline) throw new Error(`${path} never reached the access log`);
    await httpGet(port, path).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('log readers', () => {
  it('keep logging across a varnishd killed and restarted by adopt, and are restarted when they die', async () => {
    const state = await loadState(de.driver.envDir(de.env));
    const d = state?.dispatchers[0];
    if (!d?.process) throw new Error('no dispatcher');
    expect(Object.keys(readers()).sort()).toEqual(['dispatcher-1.access', 'dispatcher-1.backend', 'dispatcher-1.decisions', 'dispatcher-1.requests']);
    await requestUntilLogged(d.port, '/before-kill');

    process.kill(d.process.pid, 'SIGKILL');
    await waitUntil(() => !pidAlive(d.process?.pid ?? 0), 10_000);
    const reader = readers()['dispatcher-1.access'];
    process.kill(reader?.pid ?? 0, 'SIGKILL');
    await de.driver.adopt(de.env);
    expect(isOurProcess(readers()['dispatcher-1.access'])).toBe(true);
    expect(readers()['dispatcher-1.access']?.pid).not.toBe(reader?.pid);
    // The other two readers never stopped: they reattach to the new varnishd.
    expect(isOurProcess(readers()['dispatcher-1.backend'])).toBe(true);
    await requestUntilLogged(d.port, '/after-restart');
    const deadline = Date.now() + 10_000;
    while (!await logHas('/after-restart', 'aemdispatcher')) {
      if (Date.now() > deadline) throw new Error('the surviving reader logged nothing after the restart');
      await new Promise((r) => setTimeout(r, 250));
    }
  }, 90_000);

  it('are stopped when the environment is destroyed', async () => {
    const records = Object.values(readers());
    await de.driver.destroy(de.env);
    expect(records.filter((r) => pidAlive(r.pid))).toEqual([]);
  }, 60_000);
});
