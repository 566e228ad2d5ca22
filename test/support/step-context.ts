// A minimal, real StepContext for calling step handlers in tests: a temp data dir with a real
// FsArtifactStore, a temp work dir, an in-memory log and in-memory artifact/details records.
// Generic on purpose: every step's tests can use it and override what they need.
// The log here records writes VERBATIM (no masking), so tests can check that a handler or the
// runner masks secrets itself; the engine's real log writer masks as well.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsArtifactStore } from '../../src/artifacts/fs-store.ts';
import {
  DEFAULT_PIPELINE_OPTIONS, type Execution, type Pipeline, type Program, type Repository, type StepState,
} from '../../src/domain/model.ts';
import type { ExecutionArtifact, LogWriter, StepContext } from '../../src/steps/handler.ts';
import type { TopologyDriver } from '../../src/topology/driver.ts';

export interface TestLog extends LogWriter {
  text(): string;
}

export function memoryLog(): TestLog {
  const chunks: Buffer[] = [];
  return {
    write(text) { chunks.push(typeof text === 'string' ? Buffer.from(text) : Buffer.from(text)); },
    line(text) { chunks.push(Buffer.from(`${text}\n`)); },
    flush: async () => undefined,
    text: () => Buffer.concat(chunks).toString('utf8'),
  };
}

/** A driver that fails loudly: tests of steps that deploy pass their own. */
export const noDriver: TopologyDriver = {
  provision: () => Promise.reject(new Error('no topology driver in this test')),
  destroy: () => Promise.reject(new Error('no topology driver in this test')),
  adopt: () => Promise.reject(new Error('no topology driver in this test')),
  describe: () => Promise.reject(new Error('no topology driver in this test')),
  deploy: () => Promise.reject(new Error('no topology driver in this test')),
  flushCaches: () => Promise.reject(new Error('no topology driver in this test')),
};

export interface TestStepContext extends StepContext {
  log: TestLog;
  /** Artifacts recorded by this step (also returned by executionArtifacts()). */
  recorded: ExecutionArtifact[];
  /** Everything merged through updateDetails. */
  details: Record<string, unknown>;
  /** Removes the temp data and work dirs (unless given in overrides). */
  cleanup(): void;
}

export interface StepContextOverrides extends Partial<Omit<StepContext, 'log'>> {
  /** Artifacts of earlier steps, returned by executionArtifacts() before this step's own. */
  priorArtifacts?: ExecutionArtifact[];
  previous?: Record<string, unknown>;
}

export function makeStepContext(overrides: StepContextOverrides = {}): TestStepContext {
  const owned: string[] = [];
  const dataDir = overrides.dataDir ?? mkdtempSync(join(tmpdir(), 'slipway-data-'));
  if (!overrides.dataDir) owned.push(dataDir);
  const workDir = overrides.workDir ?? join(dataDir, 'work', 'e1', 's1');
  mkdirSync(workDir, { recursive: true });
  const now = new Date('2026-01-02T03:04:05.000Z');

  const program: Program = { id: '7', name: 'Test Program', tenantId: 't1', enabled: true, createdAt: now, updatedAt: now };
  const repository: Repository = { id: '3', programId: program.id, name: 'site', url: 'file:///nonexistent.git', description: '' };
  const pipeline: Pipeline = {
    id: '11', programId: program.id, name: 'Production', type: 'fullStack', trigger: 'MANUAL',
    repositoryId: repository.id, branch: 'main', environments: { stage: '21', prod: '22' },
    options: { ...DEFAULT_PIPELINE_OPTIONS }, createdAt: now, updatedAt: now,
  };
  const step: StepState = {
    id: 's1', executionId: 'e1', index: 1, phase: 'stageDeployment', action: 'build', status: 'RUNNING',
    details: {}, metrics: [], updatedAt: now, pauseBeforeRun: false, attempts: 1,
  };
  const execution: Execution = {
    id: '42', programId: program.id, pipelineId: pipeline.id, pipelineType: 'fullStack', status: 'RUNNING',
    trigger: 'MANUAL', mode: 'NORMAL', user: 'tester', createdAt: now, updatedAt: now, steps: [step],
  };

  const recorded: ExecutionArtifact[] = [];
  const details: Record<string, unknown> = {};
  const { priorArtifacts = [], previous, ...rest } = overrides;
  const stepId = overrides.step?.id ?? step.id;

  return {
    program, repository, pipeline, execution, step,
    variables: {},
    secrets: [],
    signal: new AbortController().signal,
    artifacts: new FsArtifactStore(dataDir),
    driver: noDriver,
    dataDir,
    workDir,
    now: () => now,
    executionArtifacts: async () => [...priorArtifacts, ...recorded],
    recordArtifact: async (a) => { recorded.push({ ...a, stepId }); },
    updateDetails: async (patch) => { Object.assign(details, patch); },
    rollingBack: async (reason) => { Object.assign(details, { rollingBack: reason }); },
    previousDetails: async () => previous,
    ...rest,
    log: memoryLog(),
    recorded,
    details,
    cleanup: () => { for (const dir of owned) rmSync(dir, { recursive: true, force: true }); },
  };
}
