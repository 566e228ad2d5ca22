// A rolling deploy's commands as the pipeline sees them (DeployProgress): the list it expects to
// run, each command reported as it runs, finishes or fails, and the two ways a roll ends early:
// a DeployFailure, answered with a rollback, and an abort (cancel, lease lost), which stops
// where it is.
import type { RollingPlan } from '../../domain/rolling-plan.ts';
import type { DeployOptions, DeployProgress, PlannedCommand } from '../driver.ts';
import type { ProvisionedEnv } from './provisioned-env.ts';

/** A failure that the rolling deploy answers with a rollback. */
export class DeployFailure extends Error {
  override name = 'DeployFailure';
}

/** The deploy was cancelled (or lost its lease): no further command runs, nothing is rolled back. */
export class Aborted extends Error {}

export class DeploySteps {
  constructor(private readonly options: Pick<DeployOptions, 'signal' | 'log' | 'onProgress'>) {}

  report(node: string, action: string, status: DeployProgress['status'], message?: string): void {
    const progress: DeployProgress = { node, action, status, at: new Date().toISOString(), ...(message ? { message } : {}) };
    this.options.onProgress(progress);
    this.options.log(`${node}: ${action} ${status}${message ? ` (${message})` : ''}`);
  }

  /** A node's new process answered its health check `ms` after it was spawned. */
  reportStarted(node: string, ms: number): void {
    this.report(node, 'start', 'FINISHED', healthyAfter(ms));
  }

  /**
   * Runs `work` as command `action` on `node`, reported RUNNING, then FINISHED (with `outcome`
   * of its result, the result itself if a string, else `message`) or FAILED with the error.
   */
  async step<T>(node: string, action: string, work: () => Promise<T>, message?: string,
    outcome?: (result: T) => string): Promise<T> {
    if (this.options.signal.aborted) throw new Aborted('deploy aborted');
    this.report(node, action, 'RUNNING', message);
    try {
      const result = await work();
      this.report(node, action, 'FINISHED', outcome ? outcome(result) : typeof result === 'string' ? result : message);
      return result;
    } catch (err) {
      this.report(node, action, 'FAILED', err instanceof Error ? err.message : String(err));
      throw err;
    }
  }
}

export const healthyAfter = (ms: number): string => `healthy after ${ms} ms`;

/** The commands `plan` runs if all goes well (rollbacks and resumed pairs come on top). */
export function expectedCommands(plan: RollingPlan, env: ProvisionedEnv, dispatcherOnly: boolean): PlannedCommand[] {
  const out: PlannedCommand[] = [];
  if (plan.deployAuthor) out.push({ node: 'author', action: 'deploy' });
  for (const batch of plan.batches) {
    const dispatchers = batch.map((i) => env.dispatcher(i).name);
    if (!dispatcherOnly) out.push(...batch.map((i) => ({ node: env.publish(i).name, action: 'start' })));
    out.push(...dispatchers.map((node) => ({ node, action: 'drain' })), { node: dispatchers.join(','), action: 'drainWait' });
    for (const i of batch) {
      const d = env.dispatcher(i).name;
      if (!dispatcherOnly) out.push({ node: env.publish(i).name, action: 'deploy' });
      out.push(...['deploy', 'flush', 'warm', 'health'].map((action) => ({ node: d, action })));
    }
    out.push(...dispatchers.map((node) => ({ node, action: 'attach' })));
  }
  return out;
}
