// Where a test bundle runs: in a container (podman + runc, the test base image) wherever this
// machine can run one, otherwise in the bubblewrap sandbox, so that nothing breaks on a machine
// without podman. Chosen at run time, per run; the step's log says which and why.
// SLIPWAY_TEST_ISOLATION=container|sandbox forces one (container then fails rather than falls back).
import { existsSync } from 'node:fs';
import { PASTA, sandboxHost } from '../../runner/sandbox-host.ts';
import { podmanWorks } from '../../runner/podman.ts';

export type TestIsolation = 'container' | 'sandbox';

export interface IsolationChoice {
  isolation: TestIsolation;
  /** Why, for the log. */
  reason: string;
  /** True when the choice was forced (no fallback to the sandbox). */
  forced: boolean;
}

const RUNC = ['/usr/sbin/runc', '/usr/bin/runc'];

export function requestedIsolation(): TestIsolation | undefined {
  const value = process.env.SLIPWAY_TEST_ISOLATION?.trim();
  if (value === undefined || value === '' || value === 'auto') return undefined;
  if (value === 'container' || value === 'sandbox') return value;
  throw new Error(`SLIPWAY_TEST_ISOLATION must be container, sandbox or auto (is ${JSON.stringify(value)})`);
}

/** What the machine lacks for test containers; undefined when it has everything. */
async function containerBlocker(containersConf: string): Promise<string | undefined> {
  if (!sandboxHost().runAs) return 'Slipway does not run as root';
  if (!RUNC.some((path) => existsSync(path))) return 'runc is not installed';
  if (!existsSync(PASTA)) return 'pasta (Debian passt) is not installed';
  if (!(await podmanWorks(containersConf))) return 'podman is not installed or does not answer';
  return undefined;
}

export async function chooseIsolation(containersConf: string): Promise<IsolationChoice> {
  const requested = requestedIsolation();
  if (requested === 'sandbox') return { isolation: 'sandbox', reason: 'SLIPWAY_TEST_ISOLATION=sandbox', forced: true };
  const blocker = await containerBlocker(containersConf);
  if (requested === 'container') {
    if (blocker) throw new Error(`SLIPWAY_TEST_ISOLATION=container, but ${blocker}`);
    return { isolation: 'container', reason: 'SLIPWAY_TEST_ISOLATION=container', forced: true };
  }
  return blocker
    ? { isolation: 'sandbox', reason: `no test containers on this machine: ${blocker}`, forced: false }
    : { isolation: 'container', reason: 'podman with runc is available', forced: false };
}
