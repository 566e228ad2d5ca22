// Environments as commands, as executions have them: each change of status is a domain
// transition written in one transaction; the driver's work (provisioning, tearing down) runs
// between two of them. The API, the demo and start-up all come through here.
import type { Kysely } from 'kysely';
import { environmentTransition, unfinishedWork, type EnvironmentEvent } from '../domain/environment-lifecycle.ts';
import type { Environment, EnvironmentType } from '../domain/model.ts';
import { tx } from '../store/db.ts';
import * as environments from '../store/environments.ts';
import { currentExecutionId } from '../store/executions.ts';
import { listPipelines } from '../store/pipelines.ts';
import type { Database } from '../store/schema.ts';
import type { TopologyDriver } from '../topology/driver.ts';
import { CommandRefused } from './commands.ts';
import type { Runtime } from './runtime.ts';

export interface NewEnvironment {
  programId: string;
  name: string;
  type: EnvironmentType;
  description?: string;
  region?: string;
  publishCount?: number;
}

/** Tells the live views, after the commit, what status the environment now has. */
function announce(rt: Runtime, env: Pick<Environment, 'id' | 'programId'>, status: Environment['status'] | 'deleted'): void {
  rt.bus.emitEnvironment({
    type: 'environment.changed', programId: env.programId, environmentId: env.id, status, at: new Date(rt.clock.now()).toISOString(),
  });
}

/** Moves the environment in its own transaction, then announces it. */
async function moveAndAnnounce(rt: Runtime, id: string, event: EnvironmentEvent, patch?: { topology?: unknown }): Promise<Environment> {
  const env = await tx(rt.db, (trx) => move(trx, rt, id, event, patch));
  announce(rt, env, env.status);
  return env;
}

/** Records a new environment, `creating`; provisionEnvironment makes its nodes. */
export async function createEnvironment(rt: Runtime, input: NewEnvironment): Promise<Environment> {
  const { programId, ...fields } = input;
  const env = await tx(rt.db, (trx) => environments.createEnvironment(trx, programId, fields, rt.clock.now()));
  announce(rt, env, env.status);
  return env;
}

/** Moves the environment by `event`, refused unless the lifecycle allows it; the row as it now is. */
async function move(
  trx: Kysely<Database>, rt: Runtime, id: string, event: EnvironmentEvent, patch: { topology?: unknown } = {},
): Promise<Environment> {
  const env = await environments.getEnvironment(trx, id);
  if (!env) throw new CommandRefused('NOT_FOUND', `environment ${id} not found`);
  const t = environmentTransition(env.status, event);
  if (!t.ok) throw new CommandRefused('CONFLICT', `environment ${env.name} is ${env.status}: it cannot ${event}`);
  const settings = 'topology' in patch ? { ...env.settings, topology: patch.topology } : undefined;
  await environments.updateEnvironment(trx, id, { status: t.to, ...(settings ? { settings } : {}) }, rt.clock.now());
  return { ...env, status: t.to, ...(settings ? { settings } : {}) };
}

/**
 * Has the driver make a `creating` environment's nodes; it ends `ready`, or `failed` (and the
 * driver's error is thrown). Provisioning again what a crash cut off is the driver's to make
 * safe: it starts the environment's nodes afresh.
 */
export async function provisionEnvironment(rt: Runtime, driver: TopologyDriver, env: Environment): Promise<Environment> {
  let topology: unknown;
  try {
    topology = await driver.provision(env);
  } catch (error) {
    await moveAndAnnounce(rt, env.id, 'provisionFailed');
    throw new Error(`provisioning environment ${env.name} failed`, { cause: error });
  }
  return moveAndAnnounce(rt, env.id, 'provisioned', { topology });
}

/**
 * Deletes an environment no execution is running against: `deleting` (the guard and the
 * transition in one transaction, so no execution starts in between unnoticed: a start checks
 * that its environments are ready), then the driver tears its nodes down, then the row goes.
 * A driver that fails leaves it `failed`, to be deleted again.
 */
export async function deleteEnvironment(rt: Runtime, driver: TopologyDriver, id: string): Promise<void> {
  const env = await tx(rt.db, async (trx) => {
    const current = await environments.getEnvironment(trx, id);
    if (!current) throw new CommandRefused('NOT_FOUND', `environment ${id} not found`);
    for (const p of await listPipelines(trx, current.programId)) {
      if (Object.values(p.environments).includes(id) && await currentExecutionId(trx, p.id)) {
        throw new CommandRefused('BUSY', `pipeline ${p.name} is running against environment ${current.name}`);
      }
    }
    return move(trx, rt, id, 'delete');
  });
  announce(rt, env, env.status);
  await tearDown(rt, driver, env);
}

async function tearDown(rt: Runtime, driver: TopologyDriver, env: Environment): Promise<void> {
  try {
    await driver.destroy(env);
  } catch (error) {
    await moveAndAnnounce(rt, env.id, 'deleteFailed');
    throw new Error(`deleting environment ${env.name} failed`, { cause: error });
  }
  await tx(rt.db, (trx) => environments.deleteEnvironment(trx, env.id));
  announce(rt, env, 'deleted');
}

/**
 * At start-up: takes up what a crash cut off, so no environment stays `creating` or `deleting`
 * forever. Each ends ready, failed or gone; a failure is reported and the others go on.
 */
export async function resumeEnvironments(
  rt: Runtime, driver: TopologyDriver, report: (env: Environment, error: unknown) => void,
): Promise<void> {
  for (const env of await environments.listEnvironments(rt.db.kysely)) {
    const work = unfinishedWork(env.status);
    if (!work) continue;
    await (work === 'provision' ? provisionEnvironment(rt, driver, env) : tearDown(rt, driver, env))
      .catch((error: unknown) => report(env, error));
  }
}
