// The words of Slipway (docs/design.md §1) as types. Pure: no I/O here.

export const EXECUTION_STATUSES = [
  'NOT_STARTED', 'RUNNING', 'CANCELLING', 'CANCELLED', 'FINISHED', 'ERROR', 'FAILED',
] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

export const STEP_STATUSES = [
  'NOT_STARTED', 'RUNNING', 'WAITING', 'FINISHED', 'ERROR', 'FAILED', 'CANCELLED',
  'ROLLING_BACK', 'ROLLED_BACK', 'INCOMPLETE',
] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export const TRIGGERS = ['MANUAL', 'ON_COMMIT', 'PUSH_UPGRADES', 'RE_EXECUTE'] as const;
export type Trigger = (typeof TRIGGERS)[number];

export const PIPELINE_TYPES = ['fullStack', 'codeQuality', 'devDeploy', 'webTier'] as const;
export type PipelineType = (typeof PIPELINE_TYPES)[number];

export const ENVIRONMENT_TYPES = ['dev', 'stage', 'prod'] as const;
export type EnvironmentType = (typeof ENVIRONMENT_TYPES)[number];

export type EnvironmentStatus = 'creating' | 'ready' | 'deleting' | 'failed';

export const STEP_ACTIONS = [
  'validate', 'build', 'codeQuality', 'buildImage', 'deploy',
  'productTest', 'functionalTest', 'uiTest', 'contentAudit', 'securityTest', 'loadTest',
  'approval', 'schedule', 'managed',
] as const;
export type StepAction = (typeof STEP_ACTIONS)[number];

export type ExecutionMode = 'NORMAL' | 'EMERGENCY';

/** The phases the UI shows as columns (a production pipeline has the first three). */
export const PHASES = ['stageDeployment', 'stageTesting', 'productionDeployment', 'build', 'deployment'] as const;
export type PhaseName = (typeof PHASES)[number];

export type Severity = 'critical' | 'important' | 'informational';
export type Comparator = 'GT' | 'GTE' | 'LT' | 'LTE' | 'EQ' | 'NEQ';

/** A quality metric exactly as Cloud Manager reports it (values are strings on the wire). */
export interface Metric {
  kpi: string;
  severity: Severity;
  passed: boolean;
  override: boolean;
  actualValue: string;
  expectedValue: string;
  comparator: Comparator;
}

/** What to do when an important metric fails: wait for a person (default), fail, or go on. */
export type ImportantMetricsBehavior = 'ask' | 'fail' | 'continue';
/** What a waiting step does when its time runs out. */
export type WaitTimeoutOutcome = 'fail' | 'continue';

export interface PipelineOptions {
  approval: boolean;
  schedule: boolean;
  managed: boolean;
  pauseBeforeProd: boolean;
  securityTest: boolean;
  loadTest: boolean;
  /** Include the UI test step (it is INCOMPLETE anyway when the repository has no opted-in UI tests). */
  uiTests: boolean;
  /** Experience audit page paths (1 to 25): the audit step always runs, so never empty. */
  auditPaths: string[];
  auditRuns: number;
  importantMetrics: ImportantMetricsBehavior;
  waitTimeoutMs: number;
  waitTimeoutOutcome: WaitTimeoutOutcome;
  /** Publish/dispatcher pairs deployed at once in a rolling deploy. */
  batchSize: number;
  /** Load-test thresholds. */
  loadTest95thMs: number;
  loadTestErrorRate: number;
  loadTestMinRpm: number;
}

export const FOURTEEN_DAYS_MS = 14 * 24 * 60 * 60 * 1000;

export const DEFAULT_PIPELINE_OPTIONS: PipelineOptions = {
  approval: true,
  schedule: false,
  managed: false,
  pauseBeforeProd: false,
  securityTest: false,
  loadTest: false,
  uiTests: true,
  auditPaths: ['/'],
  auditRuns: 3,
  importantMetrics: 'ask',
  waitTimeoutMs: FOURTEEN_DAYS_MS,
  waitTimeoutOutcome: 'fail',
  batchSize: 1,
  loadTest95thMs: 500,
  loadTestErrorRate: 0.01,
  loadTestMinRpm: 600,
};

export interface Program {
  id: string;
  name: string;
  tenantId: string;
  enabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface Repository {
  id: string;
  programId: string;
  name: string;
  url: string;
  description: string;
}

export interface Environment {
  id: string;
  programId: string;
  name: string;
  description: string;
  type: EnvironmentType;
  status: EnvironmentStatus;
  region: string;
  /** Driver-owned settings and state (ports, node counts, releases). */
  settings: EnvironmentSettings;
  createdAt: Date;
  updatedAt: Date;
}

/** How an environment's nodes run: processes on this machine, or podman containers. */
export const TOPOLOGY_DRIVERS = ['containers', 'local'] as const;
export type TopologyDriverName = (typeof TOPOLOGY_DRIVERS)[number];

export interface EnvironmentSettings {
  publishCount: number;
  /** Chosen when the environment is created; absent in environments from before: local. */
  driver?: TopologyDriverName;
  /** Filled by the topology driver when it provisions the environment. */
  topology?: unknown;
}

export type VariableType = 'string' | 'secretString';
export type EnvironmentService = 'author' | 'publish' | 'preview';
export type PipelineService = 'build' | 'functionalTest' | 'uiTest' | 'loadTest';

export interface Variable {
  name: string;
  value: string;
  type: VariableType;
  /** For environment variables: author/publish/preview; for pipeline variables: the step. */
  service?: string;
}

export interface Pipeline {
  id: string;
  programId: string;
  name: string;
  type: PipelineType;
  trigger: 'MANUAL' | 'ON_COMMIT';
  repositoryId: string;
  branch: string;
  /** Target environments by type; fullStack needs stage and prod, devDeploy dev, webTier one. */
  environments: Partial<Record<EnvironmentType, string>>;
  options: PipelineOptions;
  createdAt: Date;
  updatedAt: Date;
}

export interface StepState {
  id: string;
  executionId: string;
  /** Position in the execution, 0-based; steps run in this order. */
  index: number;
  phase: PhaseName;
  action: StepAction;
  /** For deploy and test steps: the environment they act on. */
  environmentType?: EnvironmentType;
  environmentId?: string;
  status: StepStatus;
  /** Why the step waits/failed (human readable). */
  reason?: string;
  details: StepDetails;
  metrics: Metric[];
  startedAt?: Date;
  finishedAt?: Date;
  updatedAt: Date;
  /** Deadline of a waiting step (timeout) or of a scheduled deployment. */
  wakeAt?: Date;
  /** Pause before running (the prod deploy's "pause before deploying to production"). */
  pauseBeforeRun: boolean;
  /** Lease: who runs the step and until when. */
  leaseOwner?: string;
  leaseExpiresAt?: Date;
  attempts: number;
}

export interface StepDetails {
  /** The body that advanced or cancelled the step, and who sent it (the audit trail). */
  input?: unknown;
  user?: string;
  commitId?: string;
  /** Free-form progress the step's handler reports (deploy commands, audit summaries...). */
  [key: string]: unknown;
}

export interface Execution {
  id: string;
  programId: string;
  pipelineId: string;
  pipelineType: PipelineType;
  status: ExecutionStatus;
  trigger: Trigger;
  mode: ExecutionMode;
  user: string;
  artifactsVersion?: string;
  /** For RE_EXECUTE: the execution whose artifacts are deployed again. */
  sourceExecutionId?: string;
  createdAt: Date;
  updatedAt: Date;
  finishedAt?: Date;
  steps: StepState[];
}

export interface ArtifactRef {
  digest: string; // "sha256:<hex>"
  size: number;
  type: string;   // e.g. APP_IMAGE, DISPATCHER_IMAGE, TEST_RESULTS, LOG_FILE, SCAN_ISSUES
  name: string;   // file name shown to users
  mediaType: string;
}
