// Which environment may be a pipeline's target of a given type. Pure: the API refuses a bad
// target when a pipeline is created or edited (400), the validate step fails on one (the
// environment may have changed since).
import { requiredEnvironmentTypes } from './layout.ts';
import type { Environment, EnvironmentType, PipelineType } from './model.ts';

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

/** A pipeline's environments by the type they are used as. */
export type Targets = Partial<Record<EnvironmentType, string>>;

type ProgramEnvironments = ReadonlyMap<string, Pick<Environment, 'id' | 'name' | 'type' | 'settings'>>;

/**
 * Why a pipeline of `type` cannot deploy to `targets`, or undefined when it can: each target
 * is one of the program's environments (`environments`, by id) of the type it is used as, and
 * every type the pipeline needs has one.
 */
export function targetsProblem(type: PipelineType, targets: Targets, environments: ProgramEnvironments): string | undefined {
  for (const [slot, id] of Object.entries(targets)) {
    const env = id ? environments.get(id) : undefined;
    if (!env) return `environment ${id} is not in this program`;
    const problem = targetProblem(slot as EnvironmentType, env);
    if (problem) return problem;
  }
  const missing = requiredEnvironmentTypes({ type, environments: targets }).filter((t) => !targets[t]);
  return missing.length ? `a ${type} pipeline needs environments: ${missing.join(', ')}` : undefined;
}

/** One phase of Cloud Manager's pipeline PATCH body. */
export interface Phase {
  type: 'BUILD' | 'DEPLOY';
  repositoryId?: string;
  branch?: string;
  environmentId?: string;
  environmentType?: EnvironmentType;
}

export interface PhaseEdit {
  repositoryId?: string;
  branch?: string;
  environments: Targets;
}

/** Cloud Manager's `{phases:[…]}` folded into Slipway's fields, over the pipeline's current targets. */
export function editFromPhases(
  current: Targets, phases: readonly Phase[], environments: ProgramEnvironments,
): { ok: true; edit: PhaseEdit } | { ok: false; message: string } {
  const edit: PhaseEdit = { environments: { ...current } };
  for (const phase of phases) {
    if (phase.type === 'BUILD') {
      if (phase.repositoryId) edit.repositoryId = phase.repositoryId;
      if (phase.branch) edit.branch = phase.branch;
    } else if (phase.environmentId) {
      const env = environments.get(phase.environmentId);
      if (!env) return { ok: false, message: `environment ${phase.environmentId} is not in this program` };
      if (phase.environmentType && phase.environmentType !== env.type) {
        return { ok: false, message: `environment ${env.name} is ${env.type}, not ${phase.environmentType}` };
      }
      edit.environments[env.type] = env.id;
    }
  }
  return { ok: true, edit };
}
