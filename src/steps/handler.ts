// The one interface every step module implements. The engine builds a StepContext, calls
// `run`, and turns the StepResult into a state transition; handlers never touch the store.
import type {
  Environment, Execution, Metric, Pipeline, Program, Repository, StepAction, StepState,
} from '../domain/model.ts';
import type { ArtifactType } from '../artifacts/artifact-types.ts';
import type { ArtifactStore } from '../artifacts/store.ts';
import type { TopologyDriver } from '../topology/driver.ts';

import type { LogWriter } from '../runner/logs.ts';

export type { LogWriter };

/** An artifact this execution holds, by digest, as the handler sees it. */
export interface ExecutionArtifact {
  digest: string;
  type: string;
  name: string;
  size: number;
  stepId: string;
}

export interface StepContext {
  program: Program;
  pipeline: Pipeline;
  repository: Repository;
  execution: Execution;
  step: StepState;
  /** For deploy/test steps: the environment the step acts on. */
  environment?: Environment;
  /** Pipeline variables for this step's service (build, functionalTest, uiTest, loadTest), secrets included. */
  variables: Record<string, string>;
  /** Deploy steps: the environment's variables for each service (author, publish). */
  environmentVariables?: { author: Record<string, string>; publish: Record<string, string> };
  /** Values that must never appear in a log; the log writer already masks them. */
  secrets: string[];
  log: LogWriter;
  /** Aborted on cancel and on lease loss: kill child processes when it fires. */
  signal: AbortSignal;
  artifacts: ArtifactStore;
  /** Artifacts recorded by earlier steps of this execution (or, on RE_EXECUTE, of the source). */
  executionArtifacts(): Promise<ExecutionArtifact[]>;
  /** Record an artifact (already in the store) as produced by this step. */
  recordArtifact(artifact: { digest: string; type: ArtifactType; name: string; size: number }): Promise<void>;
  /** Merge live progress into the step's details (deploy commands, node progress, ...). */
  updateDetails(patch: Record<string, unknown>): Promise<void>;
  /** Marks the step ROLLING_BACK: a deploy is putting the previous release back. */
  rollingBack(reason: string): Promise<void>;
  /** Details of the same step action in the pipeline's previous execution (for comparisons). */
  previousDetails(): Promise<Record<string, unknown> | undefined>;
  driver: TopologyDriver;
  /** A private scratch directory for this step attempt (removed when the execution ends). */
  workDir: string;
  /** Slipway's data directory, for handlers that keep caches (git mirrors). */
  dataDir: string;
  now(): Date;
}

export type StepResult =
  | { outcome: 'finished'; metrics?: Metric[]; details?: Record<string, unknown> }
  | { outcome: 'failed'; reason: string; metrics?: Metric[]; details?: Record<string, unknown> }
  /** Quality gate or person needed: the engine puts the step in WAITING with a timeout. */
  | { outcome: 'waiting'; reason: string; metrics?: Metric[]; details?: Record<string, unknown> }
  /** Nothing to do (no UI tests, ...): counts as done. */
  | { outcome: 'incomplete'; reason: string; details?: Record<string, unknown> }
  /** A deploy that failed and put the previous release back. */
  | { outcome: 'rolledBack'; reason: string; details?: Record<string, unknown> };

export interface StepHandler {
  action: StepAction;
  /**
   * True when running the handler twice has the same effect as once, so an attempt cut off by
   * a crash is simply run again; otherwise the interrupted step fails with a clear reason.
   */
  idempotent: boolean;
  run(ctx: StepContext): Promise<StepResult>;
}

export type HandlerRegistry = Partial<Record<StepAction, StepHandler>>;
