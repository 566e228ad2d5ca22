// Table types for Kysely. Timestamps are epoch milliseconds; JSON columns are text.
import type { Generated } from 'kysely';

export interface ProgramTable {
  id: Generated<number>;
  name: string;
  tenant_id: string;
  enabled: number;
  created_at: number;
  updated_at: number;
}

export interface RepositoryTable {
  id: Generated<number>;
  program_id: number;
  name: string;
  url: string;
  description: string;
  created_at: number;
}

export interface EnvironmentTable {
  id: Generated<number>;
  program_id: number;
  name: string;
  description: string;
  type: string;
  status: string;
  region: string;
  settings: string;
  created_at: number;
  updated_at: number;
}

export interface VariableTable {
  owner_kind: string; // 'environment' | 'pipeline'
  owner_id: number;
  name: string;
  service: string; // '' = every service
  type: string;
  value: string;
}

export interface PipelineTable {
  id: Generated<number>;
  program_id: number;
  name: string;
  type: string;
  trigger: string;
  repository_id: number;
  branch: string;
  environments: string;
  options: string;
  last_commit: string | null;
  created_at: number;
  updated_at: number;
}

export interface ExecutionTable {
  id: Generated<number>;
  program_id: number;
  pipeline_id: number;
  pipeline_type: string;
  status: string;
  trigger: string;
  mode: string;
  user: string;
  artifacts_version: string | null;
  source_execution_id: number | null;
  /** The pipeline id while the execution is not terminal; a unique index makes "one at a time" atomic. */
  busy_pipeline_id: number | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}

export interface StepTable {
  id: Generated<number>;
  execution_id: number;
  idx: number;
  phase: string;
  action: string;
  environment_type: string | null;
  environment_id: number | null;
  status: string;
  reason: string | null;
  details: string;
  metrics: string;
  started_at: number | null;
  finished_at: number | null;
  updated_at: number;
  wake_at: number | null;
  pause_before_run: number;
  /** Set while the step waits for a worker to claim it. */
  queued_at: number | null;
  lease_owner: string | null;
  lease_expires_at: number | null;
  attempts: number;
}

export interface ArtifactTable {
  digest: string;
  size: number;
  media_type: string;
  created_at: number;
}

export interface ExecutionArtifactTable {
  execution_id: number;
  step_id: number;
  digest: string;
  type: string;
  name: string;
  size: number;
}

export interface UserTable {
  id: Generated<number>;
  name: string;
  admin: number;
  created_at: number;
}

export interface TokenTable {
  hash: string;
  user_id: number;
  label: string;
  created_at: number;
}

export interface MemberTable {
  program_id: number;
  user_id: number;
  role: string;
}

export interface EventTable {
  /** The journal's cursor. */
  id: Generated<number>;
  event_id: string;
  program_id: number;
  execution_id: number;
  kind: string;
  record: string;
  published_at: number;
}

export interface WebhookTable {
  id: Generated<number>;
  program_id: number;
  url: string;
  secret: string;
  events: string;
  enabled: number;
  fanned_out_to: number;
  created_at: number;
  updated_at: number;
}

export interface WebhookDeliveryTable {
  id: Generated<number>;
  webhook_id: number;
  event_seq: number;
  execution_id: number;
  status: string;
  attempts: number;
  next_attempt_at: number;
  lease_until: number | null;
  response_code: number | null;
  error: string | null;
  last_attempt_at: number | null;
  delivered_at: number | null;
  created_at: number;
}

export interface Database {
  programs: ProgramTable;
  repositories: RepositoryTable;
  environments: EnvironmentTable;
  variables: VariableTable;
  pipelines: PipelineTable;
  executions: ExecutionTable;
  steps: StepTable;
  artifacts: ArtifactTable;
  execution_artifacts: ExecutionArtifactTable;
  users: UserTable;
  tokens: TokenTable;
  members: MemberTable;
  events: EventTable;
  webhooks: WebhookTable;
  webhook_deliveries: WebhookDeliveryTable;
}
