// A pipeline as Cloud Manager shows it: phases derived from type/repository/environments,
// status IDLE/BUSY/WAITING, and the links the clients follow.
import type { Environment, EnvironmentType, Execution, Pipeline } from '../domain/model.ts';
import { isExecutionTerminal } from '../domain/transitions.ts';
import { getExecution, lastExecutionId } from '../store/executions.ts';
import type { ApiDeps } from './deps.ts';
import { cmTime, compact, link, paths, rel } from './hal.ts';

export interface PipelineState {
  last?: Execution;
  environments: Map<string, Environment>;
}

const ENV_ORDER: EnvironmentType[] = ['dev', 'stage', 'prod'];

export function phasesOf(pipeline: Pipeline, environments: Map<string, Environment>): Record<string, unknown>[] {
  const phases: Record<string, unknown>[] = [{
    name: 'BUILD_1', type: 'BUILD', repositoryId: pipeline.repositoryId, branch: pipeline.branch,
  }];
  let n = 0;
  for (const type of ENV_ORDER) {
    const id = pipeline.environments[type];
    if (!id) continue;
    n++;
    phases.push(compact({
      name: `DEPLOY_${n}`, type: 'DEPLOY', environmentId: id, environmentType: type, environmentName: environments.get(id)?.name,
    }));
  }
  return phases;
}

export function pipelineStatus(last: Execution | undefined): 'IDLE' | 'BUSY' | 'WAITING' {
  if (!last || last.finishedAt || isExecutionTerminal(last.status)) return 'IDLE';
  return last.steps.some((s) => s.status === 'WAITING') ? 'WAITING' : 'BUSY';
}

export function pipelineJson(pipeline: Pipeline, state: PipelineState): Record<string, unknown> {
  const self = paths.pipeline(pipeline.programId, pipeline.id);
  const last = state.last;
  return compact({
    _links: {
      [rel('program')]: link(paths.program(pipeline.programId)),
      [rel('execution')]: link(`${self}/execution`),
      [rel('executions')]: link(`${self}/executions`),
      [rel('execution/id')]: link(`${self}/execution/{executionId}`, true),
      [rel('variables')]: link(`${self}/variables`),
      [rel('cache')]: link(`${self}/cache`),
      // Only a pipeline that deploys to production has a release to roll back (the route says when there is none yet).
      ...(pipeline.environments.prod ? { [rel('rollbackLastSuccessfulExecution')]: link(`${self}/rollbackLastSuccessfulExecution`) } : {}),
      self: link(self),
    },
    id: pipeline.id,
    programId: pipeline.programId,
    name: pipeline.name,
    trigger: pipeline.trigger,
    status: pipelineStatus(last),
    type: 'CI_CD',
    slipwayType: pipeline.type,
    createdAt: cmTime(pipeline.createdAt),
    updatedAt: cmTime(pipeline.updatedAt),
    lastStartedAt: cmTime(last?.createdAt),
    lastFinishedAt: cmTime(last?.finishedAt),
    phases: phasesOf(pipeline, state.environments),
    options: pipeline.options,
  });
}

export async function pipelineStateOf(deps: ApiDeps, pipeline: Pipeline, environments: Map<string, Environment>): Promise<PipelineState> {
  const db = deps.slipway.rt.db.kysely;
  const lastId = await lastExecutionId(db, pipeline.id);
  const last = lastId ? await getExecution(db, lastId) : undefined;
  return { environments, ...(last ? { last } : {}) };
}
