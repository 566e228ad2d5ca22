// Slipway's own smoke checks of a stage topology: every node healthy, the site's pages served
// through the load balancer and through every dispatcher, denied paths refused at the
// dispatchers, cache headers on cached paths.
import type { TopologyView, NodeView } from '../../topology/driver.ts';
import type { DispatcherPackage } from '../../domain/contract.ts';
import type { CheckResult } from './junit-writer.ts';
import { probe, urlOf, type ProbeResult } from './http-probe.ts';
import { cacheTtlOf, deniedSamplePaths } from './dispatcher-rules.ts';

export interface ProductCheckPlan {
  healthPath: string;
  pages: string[];
  dispatcher?: DispatcherPackage;
}

function statusText(r: ProbeResult): string {
  return r.status === 0 ? `no answer (${r.error ?? 'error'})` : `HTTP ${r.status}`;
}

async function check(group: string, name: string, url: string, judge: (r: ProbeResult) => string | undefined, signal: AbortSignal): Promise<CheckResult> {
  const r = await probe(url, { signal, maxBody: 0 });
  const problem = judge(r);
  return { group, name, passed: problem === undefined, timeMs: r.timeMs, ...(problem ? { message: `${url}: ${problem}` } : {}) };
}

const expect200 = (r: ProbeResult): string | undefined => (r.status === 200 ? undefined : `expected 200, got ${statusText(r)}`);
const expectRefused = (r: ProbeResult): string | undefined =>
  r.status === 403 || r.status === 404 ? undefined : `expected 403 or 404, got ${statusText(r)}`;

/** 200, and when the dispatcher names itself (X-Dispatcher), the name is its own. */
function servedBy(name: string): (r: ProbeResult) => string | undefined {
  return (r) => {
    const problem = expect200(r);
    if (problem) return problem;
    const header = r.headers.get('x-dispatcher');
    return header && header !== name ? `answered by ${header} (X-Dispatcher), not ${name}` : undefined;
  };
}

function healthChecks(view: TopologyView, plan: ProductCheckPlan, signal: AbortSignal): Promise<CheckResult>[] {
  const nodes: NodeView[] = [view.author, ...view.publish, ...view.dispatchers, view.loadBalancer];
  return nodes.map(async (node) => {
    const result = await check('health', `${node.name} answers ${plan.healthPath}`, urlOf(node.url, plan.healthPath), expect200, signal);
    if (result.passed && !node.healthy) return { ...result, passed: false, message: `${node.name}: the topology reports it unhealthy` };
    return result;
  });
}

function pageChecks(view: TopologyView, plan: ProductCheckPlan, signal: AbortSignal): Promise<CheckResult>[] {
  const checks: Promise<CheckResult>[] = [];
  for (const path of plan.pages) {
    checks.push(check('load-balancer', `serves ${path}`, urlOf(view.loadBalancer.url, path), expect200, signal));
    for (const d of view.dispatchers) checks.push(check(d.name, `serves ${path}`, urlOf(d.url, path), servedBy(d.name), signal));
  }
  return checks;
}

function denyChecks(view: TopologyView, plan: ProductCheckPlan, signal: AbortSignal): Promise<CheckResult>[] {
  if (!plan.dispatcher) return [];
  const checks: Promise<CheckResult>[] = [];
  for (const path of deniedSamplePaths(plan.dispatcher)) {
    for (const d of [...view.dispatchers, view.loadBalancer]) {
      checks.push(check(d.name, `refuses ${path}`, urlOf(d.url, path), expectRefused, signal));
    }
  }
  return checks;
}

function cacheChecks(view: TopologyView, plan: ProductCheckPlan, signal: AbortSignal): Promise<CheckResult>[] {
  const pkg = plan.dispatcher;
  if (!pkg) return [];
  const cached = plan.pages.filter((p) => cacheTtlOf(pkg, p) > 0);
  return cached.flatMap((path) => view.dispatchers.map((d) => check(d.name, `cache headers on ${path}`, urlOf(d.url, path), (r) => {
    if (r.status !== 200) return `expected 200, got ${statusText(r)}`;
    return r.headers.has('cache-control') || r.headers.has('x-cache') ? undefined : 'neither Cache-Control nor X-Cache is present';
  }, signal)));
}

export async function runProductChecks(view: TopologyView, plan: ProductCheckPlan, signal: AbortSignal): Promise<CheckResult[]> {
  // Health first: when nodes are down, the other checks' failures are consequences.
  const health = await Promise.all(healthChecks(view, plan, signal));
  const rest = await Promise.all([...pageChecks(view, plan, signal), ...denyChecks(view, plan, signal), ...cacheChecks(view, plan, signal)]);
  return [...health, ...rest];
}
