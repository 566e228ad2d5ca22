// Builds what a step handler sees (StepContext) from the store.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Environment, Execution, PipelineService, StepAction, StepState } from '../domain/model.ts';
import type { ArtifactStore } from '../artifacts/store.ts';
import type { StepContext } from '../steps/handler.ts';
import type { TopologyDriver } from '../topology/driver.ts';
import { listExecutionArtifacts, recordArtifact } from '../store/artifacts.ts';
import { getEnvironment } from '../store/environments.ts';
import { getExecution, listExecutions, updateStep } from '../store/executions.ts';
import type { LogStore } from '../store/logs.ts';
import { getPipeline } from '../store/pipelines.ts';
import { getProgram, getRepository } from '../store/programs.ts';
import { listVariables, variablesForService } from '../store/variables.ts';
import { transact, type Runtime } from './runtime.ts';

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

export async function buildContext(
  deps: ContextDeps, execution: Execution, step: StepState, signal: AbortSignal,
): Promise<StepContext & { closeLog(): void }> {
  const db = deps.rt.db.kysely;
  const [program, pipeline] = await Promise.all([getProgram(db, execution.programId), getPipeline(db, execution.pipelineId)]);
  if (!program || !pipeline) throw new ContextError(`program or pipeline of execution ${execution.id} is gone`);
  const repository = await getRepository(db, program.id, pipeline.repositoryId);
  if (!repository) throw new ContextError(`repository ${pipeline.repositoryId} of pipeline ${pipeline.name} is gone`);
  let environment: Environment | undefined;
  if (step.environmentId) environment = await getEnvironment(db, step.environmentId);

  const pipelineVars = await listVariables(db, 'pipeline', pipeline.id);
  const service = SERVICE_OF[step.action];
  const { values: variables, secrets } = service ? variablesForService(pipelineVars, service) : { values: {}, secrets: [] };
  const allSecrets = [...secrets, ...pipelineVars.filter((v) => v.type === 'secretString' && v.value).map((v) => v.value)];
  let environmentVariables: StepContext['environmentVariables'];
  if (environment) {
    const envVars = await listVariables(db, 'environment', environment.id);
    const author = variablesForService(envVars, 'author');
    const publish = variablesForService(envVars, 'publish');
    environmentVariables = { author: author.values, publish: publish.values };
    allSecrets.push(...author.secrets, ...publish.secrets);
  }

  const log = deps.logs.open(step.id, 'main', [...new Set(allSecrets)]);
  const workDir = join(deps.dataDir, 'work', execution.id, `${step.id}-${step.attempts}`);
  mkdirSync(workDir, { recursive: true });

  return {
    program, pipeline, repository, execution, step, environment, variables, secrets: [...new Set(allSecrets)],
    ...(environmentVariables ? { environmentVariables } : {}),
    log, signal, artifacts: deps.artifacts, driver: deps.driver, workDir, dataDir: deps.dataDir,
    now: () => new Date(deps.rt.clock.now()),
    closeLog: () => log.close(),
    executionArtifacts: async () => (await listExecutionArtifacts(db, execution.id))
      .map((a) => ({ digest: a.digest, type: a.type, name: a.name, size: a.size, stepId: a.stepId })),
    recordArtifact: (a) => recordArtifact(db, { ...a, executionId: execution.id, stepId: step.id }, deps.rt.clock.now()),
    updateDetails: (patch) => transact(deps.rt, async (trx, changes) => {
      const row = await trx.selectFrom('steps').select('details').where('id', '=', Number(step.id)).executeTakeFirst();
      const details = { ...(row ? JSON.parse(row.details) as object : {}), ...patch };
      await updateStep(trx, step.id, { details: JSON.stringify(details), updated_at: deps.rt.clock.now() });
      changes.add({
        events: [{
          type: 'step.updated', programId: program.id, pipelineId: pipeline.id, executionId: execution.id,
          stepId: step.id, action: step.action, status: 'RUNNING',
        }],
        wake: false,
      });
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
