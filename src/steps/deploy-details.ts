// The deploy step's details: Cloud Manager's fields, in Cloud Manager's shape (scripts
// JSON.parse the two string-encoded arrays), and Slipway's own, richer record under `rollout`.
//   deployCommands             JSON array in a string: the commands the deployment expects to
//                              run, [{id, stepAction, instanceId}]
//   currentDeployCommandId     the id (a string) of the deployCommands entry running now
//   deploymentStepDescription  JSON array in a string: the activities performed so far,
//                              [{id, stepAction, instanceId, updated, status}] (status is ours)
//   environmentUrls            [{instanceType: 'publish' | 'author', instanceUrl}]
//   rollout                    the release, every progress record, each node's latest state, and
//                              `done`: what this step already completed, which a resumed
//                              attempt (after a crash) leaves out
import { environmentUrlsOf, type DeployDone, type DeployProgress, type EnvironmentUrl, type PlannedCommand, type TopologyView } from '../topology/driver.ts';

export interface RolloutSummary {
  environmentId: string;
  version: string;
  appImage: string;
  dispatcherImage?: string;
  dispatcherOnly: boolean;
}

export interface NodeProgress {
  action: string;
  status: string;
  at: string;
  message?: string;
}

export interface Rollout extends RolloutSummary {
  commands: DeployProgress[];
  nodes: Record<string, NodeProgress>;
  done: DeployDone;
}


interface Activity {
  id: number;
  stepAction: string;
  instanceId: string;
  updated: string;
  status: DeployProgress['status'];
}

/** Cloud Manager's timestamp form: 2019-05-23T13:58:26.305+0000. */
function cmTime(iso: string): string {
  return iso.replace('Z', '+0000');
}

/** The activities performed, one per command: a RUNNING record opens it, its outcome closes it. */
export function describeActivities(commands: readonly DeployProgress[]): Activity[] {
  const out: Activity[] = [];
  for (const c of commands) {
    const open = c.status === 'RUNNING' ? undefined
      : out.findLast((a) => a.status === 'RUNNING' && a.instanceId === c.node && a.stepAction === c.action);
    if (open) Object.assign(open, { status: c.status, updated: cmTime(c.at) });
    else out.push({ id: out.length + 1, stepAction: c.action, instanceId: c.node, updated: cmTime(c.at), status: c.status });
  }
  return out;
}

/** The publish URL is the environment's load balancer, as in Cloud Manager. */
export function environmentUrls(view: TopologyView): EnvironmentUrl[] {
  return environmentUrlsOf({ publish: view.loadBalancer.url, author: view.author.url });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The progress an earlier attempt of this step recorded for the same release on the same
 * environment (the step was cut off by a crash); undefined when there is none.
 */
export function priorRollout(details: Record<string, unknown> | undefined, summary: RolloutSummary): Rollout | undefined {
  const r = details?.rollout;
  if (!isRecord(r) || !isRecord(r.done) || !Array.isArray(r.commands) || !isRecord(r.nodes)) return undefined;
  const same = r.environmentId === summary.environmentId && r.version === summary.version
    && r.appImage === summary.appImage && (r.dispatcherImage ?? undefined) === summary.dispatcherImage
    && r.dispatcherOnly === summary.dispatcherOnly;
  if (!same) return undefined;
  const pairs = Array.isArray(r.done.pairs) ? r.done.pairs.filter((p): p is number => Number.isInteger(p)) : [];
  return {
    ...summary, commands: r.commands as DeployProgress[], nodes: r.nodes as Record<string, NodeProgress>,
    done: { author: r.done.author === true, pairs },
  };
}

/** The step's record while it deploys; `details()` is what goes into the step. */
export class DeployRecord {
  readonly rollout: Rollout;
  private planned: { id: number; stepAction: string; instanceId: string }[] = [];
  private readonly started = new Set<number>();
  private current: number | undefined;
  private urls: EnvironmentUrl[] | undefined;

  constructor(summary: RolloutSummary, prior?: Rollout) {
    this.rollout = prior ?? { ...summary, commands: [], nodes: {}, done: { author: false, pairs: [] } };
  }

  plan(commands: readonly PlannedCommand[]): void {
    this.planned = commands.map((c, k) => ({ id: k + 1, stepAction: c.action, instanceId: c.node }));
    this.started.clear();
  }

  progress(p: DeployProgress): void {
    this.rollout.commands.push(p);
    this.rollout.nodes[p.node] = { action: p.action, status: p.status, at: p.at, ...(p.message ? { message: p.message } : {}) };
    if (p.status !== 'RUNNING') return;
    const next = this.planned.find((c) => !this.started.has(c.id) && c.instanceId === p.node && c.stepAction === p.action);
    if (next) { this.started.add(next.id); this.current = next.id; }
  }

  done(done: DeployDone): void {
    this.rollout.done = { author: done.author, pairs: [...done.pairs] };
  }

  environment(urls: EnvironmentUrl[] | undefined): void {
    if (urls) this.urls = urls;
  }

  details(): Record<string, unknown> {
    return {
      deployCommands: JSON.stringify(this.planned),
      ...(this.current !== undefined ? { currentDeployCommandId: String(this.current) } : {}),
      deploymentStepDescription: JSON.stringify(describeActivities(this.rollout.commands)),
      ...(this.urls ? { environmentUrls: this.urls } : {}),
      rollout: { ...this.rollout, commands: [...this.rollout.commands], nodes: { ...this.rollout.nodes } },
    };
  }
}
