// Which environment may be a pipeline's target of a given type. Pure: the API refuses a bad
// target when a pipeline is created or edited (400), the validate step fails on one (the
// environment may have changed since).
import type { Environment, EnvironmentType } from './model.ts';

/**
 * A rolling deployment drains one dispatcher at a time, so production needs at least two
 * publish/dispatcher pairs: with one, its only dispatcher leaves the load balancer and the
 * site is down for the deployment (Cloud Manager's promise is no downtime).
 */
export const MIN_PRODUCTION_PAIRS = 2;

/** Why `env` cannot be the pipeline's `slot` environment, or undefined when it can. */
export function targetProblem(slot: EnvironmentType, env: Pick<Environment, 'name' | 'type' | 'settings'>): string | undefined {
  if (env.type !== slot) return `environment ${env.name} is ${env.type}, not ${slot}`;
  if (slot === 'prod' && env.settings.publishCount < MIN_PRODUCTION_PAIRS) {
    return `production environment ${env.name} has ${env.settings.publishCount} publish/dispatcher pair; `
      + `a rolling deployment without downtime needs at least ${MIN_PRODUCTION_PAIRS}`;
  }
  return undefined;
}
