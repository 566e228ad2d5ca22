// Builds what a step handler sees (StepContext) from the store.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CompiledQuery } from 'kysely';
import type {
  Environment, Execution, Pipeline, PipelineService, Program, Repository, StepAction, StepState, Variable,
} from '../domain/model.ts';
import type { ArtifactStore } from '../artifacts/store.ts';
import type { StepContext } from '../steps/handler.ts';
import type { TopologyDriver } from '../topology/driver.ts';
import { listExecutionArtifacts, recordArtifact } from '../store/artifacts.ts';
import type { Db } from '../store/db.ts';
import { environmentQuery, toEnvironment } from '../store/environments.ts';
import { getExecution, listExecutions } from '../store/executions.ts';
import type { LogStore } from '../runner/logs.ts';
import { pipelineQuery, toPipeline } from '../store/pipelines.ts';
import { holdReads, readAll, type HeldReads } from '../store/read-together.ts';
import { pipelineRepositoryQuery, programQuery, toProgram, toRepository } from '../store/programs.ts';
import type { SecretBox } from '../store/secret-box.ts';
import { toVariable, variablesForService, variablesQuery } from '../store/variables.ts';
import { transact, type Runtime } from './runtime.ts';
import { mergeStepDetails, startRollBack, type StepWriter } from './state.ts';

export interface ContextDeps {
  rt: Runtime;
  logs: LogStore;
  artifacts: ArtifactStore;
  driver: TopologyDriver;
  dataDir: string;
}

const SERVICE_OF: Partial<Record<StepAction, PipelineService>> = {
  build: 'build', functionalTest: 'functionalTest', uiTest: 'uiTest', loadTest: 'loadTest',
};

export class ContextError extends Error {}

/** What a step's context reads from the store (readContext). */
export interface ContextReads {
  program: Program | undefined;
  pipeline: Pipeline | undefined;
  repository: Repository | undefined;
  pipelineVariables: Variable[];
  environment: Environment | undefined;
  environmentVariables: Variable[];
}

/** Each database's context queries by program, pipeline and environment. Bounded: the oldest go first. */
const compiled = new WeakMap<Db, Map<string, CompiledQuery[]>>();
const COMPILED_MAX = 1000;

/**
 * The store's part of a step's context, as independent queries (the repository by its
 * pipeline's id, not after the pipeline): on PostgreSQL they go out together, one statement
 * and one round trip. They depend on the program, pipeline and environment alone, so they are
 * compiled once for each, not for every step (built and compiled, they cost more Node time
 * than the rest of a transition's work).
 */
function contextQueries(db: Db, execution: Execution, step: StepState): CompiledQuery[] {
  const { programId, pipelineId } = execution;
  const environmentId = step.environmentId;
  const key = `${programId}/${pipelineId}/${environmentId ?? ''}`;
  let known = compiled.get(db);
  if (!known) compiled.set(db, known = new Map());
  let queries = known.get(key);
  if (!queries) {
    const k = db.kysely;
    queries = [
      programQuery(k, programId).compile(), pipelineQuery(k, pipelineId).compile(),
      pipelineRepositoryQuery(k, programId, pipelineId).compile(), variablesQuery(k, 'pipeline', pipelineId).compile(),
      ...(environmentId ? [environmentQuery(k, environmentId).compile(), variablesQuery(k, 'environment', environmentId).compile()] : []),
    ];
    known.set(key, queries);
    if (known.size > COMPILED_MAX) known.delete(known.keys().next().value!);
  }
  return queries;
}

/** The first row made by `to`, if any: rows as their query returns them (through JSON: the same values, see read-together.ts). */
const first = <R, T>(rows: unknown[], to: (row: R) => T): T | undefined => (rows.length > 0 ? to(rows[0] as R) : undefined);

/** The context's reads from their queries' rows, in contextQueries' order. */
function contextOf(secrets: SecretBox, [programs = [], pipelines = [], repositories = [], pipelineVars = [], environments = [], environmentVars = []]: unknown[][]): ContextReads {
  const variables = (rows: unknown[]) => rows.map((r) => toVariable(secrets, r as Parameters<typeof toVariable>[1]));
  return {
    program: first(programs, toProgram), pipeline: first(pipelines, toPipeline), repository: first(repositories, toRepository),
    pipelineVariables: variables(pipelineVars),
    environment: first(environments, toEnvironment), environmentVariables: variables(environmentVars),
  };
}

export async function readContext(deps: ContextDeps, execution: Execution, step: StepState): Promise<ContextReads> {
  const { db, secrets } = deps.rt;
  return contextOf(secrets, await readAll(db, contextQueries(db, execution, step)));
}

/** PostgreSQL: the context's reads held for a statement of the caller's (the one that starts the step). */
export function holdContextReads(deps: ContextDeps, execution: Execution, step: StepState): HeldReads<ContextReads> {
  const { db, secrets } = deps.rt;
  return holdReads(contextQueries(db, execution, step), (rows) => contextOf(secrets, rows));
}

export async function buildContext(
  deps: ContextDeps, execution: Execution, step: StepState, worker: string, signal: AbortSignal,
  /** Started earlier (while the previous step's completion was written), or now. */
  reads: Promise<ContextReads> = readContext(deps, execution, step),
): Promise<StepContext & { closeLog(): void }> {
  const db = deps.rt.db.kysely;
  const { program, pipeline, repository, pipelineVariables: pipelineVars, environment, environmentVariables: envVars } = await reads;
  if (!program || !pipeline) throw new ContextError(`program or pipeline of execution ${execution.id} is gone`);
  if (!repository) throw new ContextError(`repository ${pipeline.repositoryId} of pipeline ${pipeline.name} is gone`);

  const service = SERVICE_OF[step.action];
  const { values: variables } = service ? variablesForService(pipelineVars, service) : { values: {} };
  const allSecrets = [...pipelineVars, ...envVars].filter((v) => v.type === 'secretString' && v.value).map((v) => v.value);
  let environmentVariables: StepContext['environmentVariables'];
  if (environment) {
    environmentVariables = {
      author: variablesForService(envVars, 'author').values, publish: variablesForService(envVars, 'publish').values,
    };
  }

  const log = deps.logs.open(step.id, 'main', [...new Set(allSecrets)]);
  const workDirPath = join(deps.dataDir, 'work', execution.id, `${step.id}-${step.attempts}`);
  let workDirMade = false;
  // Progress and rollback are written only while this worker holds the step's lease.
  const writer: StepWriter = { worker, programId: program.id, pipelineId: pipeline.id, executionId: execution.id, stepId: step.id };

  return {
    program, pipeline, repository, execution, step, environment, variables, secrets: [...new Set(allSecrets)],
    ...(environmentVariables ? { environmentVariables } : {}),
    log, signal, artifacts: deps.artifacts, driver: deps.driver, dataDir: deps.dataDir,
    // Made on first use: most steps never need scratch space.
    get workDir() {
      if (!workDirMade) mkdirSync(workDirPath, { recursive: true });
      workDirMade = true;
      return workDirPath;
    },
    now: () => new Date(deps.rt.clock.now()),
    closeLog: () => log.close(),
    executionArtifacts: async () => (await listExecutionArtifacts(db, execution.id))
      .map((a) => ({ digest: a.digest, type: a.type, name: a.name, size: a.size, stepId: a.stepId })),
    recordArtifact: (a) => recordArtifact(db, { ...a, executionId: execution.id, stepId: step.id }, deps.rt.clock.now()),
    updateDetails: (patch) => transact(deps.rt, async (trx, changes) => {
      changes.add(await mergeStepDetails(trx, deps.rt.db.dialect, writer, patch, deps.rt.clock.now()));
    }),
    rollingBack: (reason) => transact(deps.rt, async (trx, changes) => {
      changes.add(await startRollBack(trx, deps.rt.db.dialect, writer, reason, deps.rt.clock.now()));
    }),
    previousDetails: async () => {
      const { executions } = await listExecutions(db, pipeline.id, 0, 20);
      for (const previous of executions) {
        if (Number(previous.id) >= Number(execution.id)) continue;
        const same = previous.steps.find((s) => s.action === step.action && s.environmentType === step.environmentType);
        if (same && (same.status === 'FINISHED' || same.status === 'INCOMPLETE')) return same.details;
      }
      return undefined;
    },
  };
}

/** Reloads an execution (handlers get a fresh copy, with the artifacts version set). */
export async function loadExecution(deps: ContextDeps, id: string): Promise<Execution | undefined> {
  return getExecution(deps.rt.db.kysely, id);
}
