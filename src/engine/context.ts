// Builds what a step handler sees (StepContext) from the store.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Execution, PipelineService, StepAction, StepState } from '../domain/model.ts';
import type { ArtifactStore } from '../artifacts/store.ts';
import type { StepContext } from '../steps/handler.ts';
import type { TopologyDriver } from '../topology/driver.ts';
import { listExecutionArtifacts, recordArtifact } from '../store/artifacts.ts';
import { getEnvironment } from '../store/environments.ts';
import { getExecution, listExecutions } from '../store/executions.ts';
import type { LogStore } from '../runner/logs.ts';
import { getPipeline } from '../store/pipelines.ts';
import { holdReads, readTogether, type HeldReads } from '../store/read-together.ts';
import { getPipelineRepository, getProgram } from '../store/programs.ts';
import { listVariables, variablesForService } from '../store/variables.ts';
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
export type ContextReads = Awaited<ReturnType<typeof readContext>>;

/**
 * The store's part of a step's context. Independent reads at once (the repository by its
 * pipeline's id, not after the pipeline): on PostgreSQL they go out together, one statement
 * and one round trip.
 */
export function readContext(deps: ContextDeps, execution: Execution, step: StepState, reads = readTogether(deps.rt.db)) {
  return Promise.all([
    getProgram(reads, execution.programId),
    getPipeline(reads, execution.pipelineId),
    listVariables(reads, deps.rt.secrets, 'pipeline', execution.pipelineId),
    step.environmentId ? getEnvironment(reads, step.environmentId) : undefined,
    step.environmentId ? listVariables(reads, deps.rt.secrets, 'environment', step.environmentId) : [],
    getPipelineRepository(reads, execution.programId, execution.pipelineId),
  ]);
}

/**
 * PostgreSQL: readContext's queries held for a statement of the caller's (holdReads), keyed by
 * what they depend on: the execution's program and pipeline and the step's environment.
 */
export function holdContextReads(deps: ContextDeps, execution: Execution, step: StepState): Promise<HeldReads<ContextReads>> {
  const key = `${execution.programId}/${execution.pipelineId}/${step.environmentId ?? ''}`;
  return holdReads(deps.rt.db, (k) => readContext(deps, execution, step, k), key);
}

export async function buildContext(
  deps: ContextDeps, execution: Execution, step: StepState, worker: string, signal: AbortSignal,
  /** Started earlier (while the previous step's completion was written), or now. */
  reads: Promise<ContextReads> = readContext(deps, execution, step),
): Promise<StepContext & { closeLog(): void }> {
  const db = deps.rt.db.kysely;
  const [program, pipeline, pipelineVars, environment, envVars, repository] = await reads;
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
