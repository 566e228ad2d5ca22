// Which steps an execution has, in order, for each pipeline type and set of options.
import type {
  EnvironmentType, ExecutionMode, PhaseName, Pipeline, StepAction, Trigger,
} from './model.ts';

export interface StepSpec {
  phase: PhaseName;
  action: StepAction;
  environmentType?: EnvironmentType;
  pauseBeforeRun?: boolean;
}

const step = (phase: PhaseName, action: StepAction, environmentType?: EnvironmentType): StepSpec =>
  environmentType ? { phase, action, environmentType } : { phase, action };

function fullStackLayout(pipeline: Pipeline, mode: ExecutionMode): StepSpec[] {
  const o = pipeline.options;
  const emergency = mode === 'EMERGENCY';
  const steps: StepSpec[] = [
    step('stageDeployment', 'validate'),
    step('stageDeployment', 'build'),
    step('stageDeployment', 'codeQuality'),
    step('stageDeployment', 'buildImage'),
    step('stageDeployment', 'deploy', 'stage'),
    step('stageTesting', 'productTest', 'stage'),
    step('stageTesting', 'functionalTest', 'stage'),
  ];
  if (o.uiTests) steps.push(step('stageTesting', 'uiTest', 'stage'));
  // The experience audit is always executed and cannot be skipped (Cloud Manager).
  steps.push(step('stageTesting', 'contentAudit', 'stage'));
  // Emergency mode skips the security and performance gates (Cloud Manager's AMS behaviour).
  if (o.securityTest && !emergency) steps.push(step('stageTesting', 'securityTest', 'stage'));
  if (o.loadTest && !emergency) steps.push(step('stageTesting', 'loadTest', 'stage'));
  if (o.approval) steps.push(step('productionDeployment', 'approval', 'prod'));
  if (o.schedule) steps.push(step('productionDeployment', 'schedule', 'prod'));
  if (o.managed) steps.push(step('productionDeployment', 'managed', 'prod'));
  steps.push(prodDeploySpec(pipeline));
  return steps;
}

/**
 * The production deploy step, from the pipeline's options: one definition for a normal
 * execution and a re-execution, which "uses the same configuration and options" (Cloud Manager).
 */
export function prodDeploySpec(pipeline: Pipeline): StepSpec {
  return { ...step('productionDeployment', 'deploy', 'prod'), pauseBeforeRun: pipeline.options.pauseBeforeProd };
}

/** The step layout of a new execution. */
export function layoutFor(pipeline: Pipeline, trigger: Trigger, mode: ExecutionMode): StepSpec[] {
  if (trigger === 'RE_EXECUTE') return reExecuteLayout(pipeline);
  switch (pipeline.type) {
    case 'fullStack':
      return fullStackLayout(pipeline, mode);
    case 'codeQuality':
      return [step('build', 'validate'), step('build', 'build'), step('build', 'codeQuality')];
    case 'devDeploy':
      return [
        step('build', 'validate'), step('build', 'build'), step('build', 'codeQuality'),
        step('build', 'buildImage'), step('deployment', 'deploy', 'dev'),
      ];
    case 'webTier': {
      const target = targetEnvironmentType(pipeline);
      return [
        step('build', 'validate'), step('build', 'build'), step('build', 'buildImage'),
        step('deployment', 'deploy', target),
      ];
    }
  }
}

/** A re-execution deploys the source execution's artifacts again: no new build, no tests. */
export function reExecuteLayout(pipeline: Pipeline): StepSpec[] {
  return [
    step('productionDeployment', 'validate'),
    step('productionDeployment', 'build'),
    prodDeploySpec(pipeline),
  ];
}

/** The environment types a pipeline type needs. */
export function requiredEnvironmentTypes(pipeline: Pick<Pipeline, 'type' | 'environments'>): EnvironmentType[] {
  switch (pipeline.type) {
    case 'fullStack': return ['stage', 'prod'];
    case 'devDeploy': return ['dev'];
    case 'codeQuality': return [];
    case 'webTier': return [targetEnvironmentType(pipeline)];
  }
}

function targetEnvironmentType(pipeline: Pick<Pipeline, 'environments'>): EnvironmentType {
  const types = Object.keys(pipeline.environments) as EnvironmentType[];
  return types[0] ?? 'dev';
}

/** The actions a layout needs handlers for (validate reports the missing ones). */
export function actionsOf(steps: StepSpec[]): StepAction[] {
  return [...new Set(steps.map((s) => s.action))];
}
