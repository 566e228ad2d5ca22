// Small builders of domain values for pure tests.
import { DEFAULT_PIPELINE_OPTIONS, type Execution, type Pipeline, type StepState } from '../../src/domain/model.ts';

export function pipeline(overrides: Partial<Pipeline> = {}): Pipeline {
  return {
    id: '1', programId: '1', name: 'Production', type: 'fullStack', trigger: 'MANUAL', repositoryId: '1', branch: 'main',
    environments: { stage: '1', prod: '2' }, options: { ...DEFAULT_PIPELINE_OPTIONS }, createdAt: new Date(0), updatedAt: new Date(0),
    ...overrides,
  };
}

export function step(overrides: Partial<StepState> = {}): StepState {
  return {
    id: '10', executionId: '1', index: 0, phase: 'stageDeployment', action: 'validate', status: 'NOT_STARTED',
    details: {}, metrics: [], updatedAt: new Date(0), pauseBeforeRun: false, attempts: 0, ...overrides,
  };
}

export function execution(overrides: Partial<Execution> = {}): Execution {
  return {
    id: '1', programId: '1', pipelineId: '1', pipelineType: 'fullStack', status: 'FINISHED', trigger: 'MANUAL', mode: 'NORMAL',
    user: 'admin', createdAt: new Date(0), updatedAt: new Date(0), steps: [], ...overrides,
  };
}
