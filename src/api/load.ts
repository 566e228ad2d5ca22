// Loading what a URL names, with 404s when it does not exist or does not belong to its parent.
import type { Environment, Execution, Pipeline, Program, StepState } from '../domain/model.ts';
import { getEnvironment, listEnvironments } from '../store/environments.ts';
import { getExecution, lastExecutionId } from '../store/executions.ts';
import { getPipeline } from '../store/pipelines.ts';
import { getProgram, getRepository } from '../store/programs.ts';
import type { ApiDeps } from './deps.ts';
import { notFound } from './problem.ts';
import { phaseIdOf, type Access, type ExecutionView } from './view-execution.ts';

const db = (deps: ApiDeps) => deps.slipway.rt.db.kysely;

export async function loadProgram(deps: ApiDeps, programId: string): Promise<Program> {
  const program = await getProgram(db(deps), programId);
  if (!program) throw notFound(`program ${programId}`);
  return program;
}

export async function loadPipeline(deps: ApiDeps, programId: string, pipelineId: string): Promise<Pipeline> {
  const pipeline = await getPipeline(db(deps), pipelineId, programId);
  if (!pipeline) throw notFound(`pipeline ${pipelineId} of program ${programId}`);
  return pipeline;
}

export async function loadEnvironment(deps: ApiDeps, programId: string, environmentId: string): Promise<Environment> {
  const env = await getEnvironment(db(deps), environmentId, programId);
  if (!env) throw notFound(`environment ${environmentId} of program ${programId}`);
  return env;
}

export async function loadExecution(deps: ApiDeps, programId: string, pipelineId: string, executionId: string): Promise<Execution> {
  const execution = await getExecution(db(deps), executionId, pipelineId);
  if (!execution || execution.programId !== programId) throw notFound(`execution ${executionId} of pipeline ${pipelineId}`);
  return execution;
}

export interface StepParams {
  programId: string;
  pipelineId: string;
  executionId: string;
  phaseId: string;
  stepId: string;
}

export async function loadStep(deps: ApiDeps, p: StepParams): Promise<{ execution: Execution; step: StepState }> {
  const execution = await loadExecution(deps, p.programId, p.pipelineId, p.executionId);
  const step = execution.steps.find((s) => s.id === p.stepId);
  if (!step || phaseIdOf(execution, step) !== p.phaseId) throw notFound(`step ${p.stepId} in phase ${p.phaseId} of execution ${p.executionId}`);
  return { execution, step };
}

/** What serializing an execution needs besides the execution itself; `may` decides the action links. */
export async function executionView(deps: ApiDeps, pipeline: Pipeline, may?: Access): Promise<ExecutionView> {
  const [repository, environments, last] = await Promise.all([
    getRepository(db(deps), pipeline.programId, pipeline.repositoryId),
    listEnvironments(db(deps), pipeline.programId),
    lastExecutionId(db(deps), pipeline.id),
  ]);
  const { driver } = deps.slipway;
  const targets = environments.filter((e) => e.status === 'ready' && Object.values(pipeline.environments).includes(e.id));
  const pointsOf = driver.entryPoints?.bind(driver);
  const entryPoints = pointsOf
    ? new Map(await Promise.all(targets.map(async (e) => [e.id, await pointsOf(e).catch(() => ({}))] as const)))
    : undefined;
  return {
    pipeline, repository, environments: new Map(environments.map((e) => [e.id, e])),
    ...(entryPoints ? { entryPoints } : {}),
    ...(last ? { lastExecutionId: last } : {}),
    ...(may ? { may } : {}),
  };
}
