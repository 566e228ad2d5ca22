// ON_COMMIT pipelines start when their branch moves. A poller asks the remote (`git
// ls-remote`) for each ON_COMMIT pipeline's branch head; the push hook runs the same check for
// the pipelines a push names. The last commit started is kept per pipeline.
import type { Execution, Pipeline } from '../domain/model.ts';
import { resolveBranch } from '../runner/git.ts';
import { getLastCommit, listPipelines, setLastCommit } from '../store/pipelines.ts';
import { getRepository } from '../store/programs.ts';
import { PipelineBusyError, startExecution } from '../engine/commands.ts';
import type { Runtime } from '../engine/runtime.ts';

/** What the watcher needs of Slipway (the engine's runtime; app.ts sits above the engine). */
type WatcherDeps = { rt: Runtime };

export type CommitCheck =
  | { outcome: 'started'; commit: string; execution: Execution }
  | { outcome: 'unchanged' | 'busy'; commit: string }
  | { outcome: 'error'; message: string };

/**
 * Starts `pipeline` when its branch head differs from the last commit it was started for
 * (a pipeline never started counts as moved). A busy pipeline is left alone and retried on the
 * next check, so the commit is not lost.
 */
export async function checkPipelineCommit(slipway: WatcherDeps, pipeline: Pipeline, signal?: AbortSignal, timeoutMs?: number): Promise<CommitCheck> {
  const db = slipway.rt.db.kysely;
  const repo = await getRepository(db, pipeline.programId, pipeline.repositoryId);
  if (!repo) return { outcome: 'error', message: `repository ${pipeline.repositoryId} is gone` };
  let commit: string;
  try {
    commit = await resolveBranch(repo.url, pipeline.branch, signal, timeoutMs);
  } catch (e) {
    return { outcome: 'error', message: e instanceof Error ? e.message : String(e) };
  }
  if (await getLastCommit(db, pipeline.id) === commit) return { outcome: 'unchanged', commit };
  try {
    const execution = await startExecution(slipway.rt, pipeline, { trigger: 'ON_COMMIT', user: '' });
    await setLastCommit(db, pipeline.id, commit);
    return { outcome: 'started', commit, execution };
  } catch (e) {
    if (e instanceof PipelineBusyError) return { outcome: 'busy', commit };
    throw e;
  }
}

export interface CommitWatcherOptions {
  intervalMs: number;
  /** How long one pipeline's `git ls-remote` may take (default 60 s). */
  checkTimeoutMs?: number;
  /** Checks running at once (default 8). */
  concurrency?: number;
  log?(line: string): void;
}

/**
 * Polls every ON_COMMIT pipeline every `intervalMs`; returns the stop function. Each pipeline is
 * checked on its own, with its own timeout, and rounds never wait for a check: a pipeline whose
 * remote has not answered yet is skipped until its check ends, so a remote that never answers
 * costs its own pipeline that timeout and delays nobody else's poll.
 */
export function startCommitWatcher(slipway: WatcherDeps, options: CommitWatcherOptions): () => Promise<void> {
  const abort = new AbortController();
  const limit = options.concurrency ?? 8;
  const inFlight = new Map<string, Promise<void>>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const check = async (p: Pipeline) => {
    const result = await checkPipelineCommit(slipway, p, abort.signal, options.checkTimeoutMs ?? 60_000)
      .catch((e: unknown) => ({ outcome: 'error' as const, message: String(e) }));
    if (result.outcome === 'started') options.log?.(`commit watcher: ${p.name} moved to ${result.commit}, started execution ${result.execution.id}`);
    else if (result.outcome === 'error' && !abort.signal.aborted) options.log?.(`commit watcher: ${p.name}: ${result.message}`);
  };
  const round = async () => {
    const pipelines = (await listPipelines(slipway.rt.db.kysely)).filter((p) => p.trigger === 'ON_COMMIT');
    for (const p of pipelines) {
      if (abort.signal.aborted || inFlight.size >= limit) return;
      if (inFlight.has(p.id)) continue;
      inFlight.set(p.id, check(p).finally(() => inFlight.delete(p.id)));
    }
  };
  const tick = () => {
    running = round().catch((e) => options.log?.(`commit watcher: ${String(e)}`)).finally(() => {
      if (!abort.signal.aborted) timer = setTimeout(tick, options.intervalMs);
    });
  };
  tick();
  return async () => {
    abort.abort();
    if (timer) clearTimeout(timer);
    await running;
    await Promise.all(inFlight.values());
  };
}
