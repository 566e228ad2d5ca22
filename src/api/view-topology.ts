// An environment's topology as the driver describes it, with each node's release naming the
// execution that deployed it (the driver knows releases, not executions: the deploy steps do).
import type { Kysely } from 'kysely';
import { deploymentsOf } from '../store/executions.ts';
import type { Database } from '../store/schema.ts';
import type { NodeView, TopologyView } from '../topology/driver.ts';

/** A node's release with the execution that deployed it there. */
type Deployed = NonNullable<NodeView['release']> & { executionId?: string; pipelineId?: string };

export async function withDeployments(db: Kysely<Database>, view: TopologyView): Promise<TopologyView> {
  const nodes = [view.author, ...view.publish, ...view.dispatchers, view.loadBalancer];
  const versions = [...new Set(nodes.flatMap((n) => (n.release ? [n.release.version] : [])))];
  const byVersion = new Map((await deploymentsOf(db, view.environmentId, versions)).map((d) => [d.version, d]));
  const mark = (node: NodeView): NodeView => {
    const d = node.release && byVersion.get(node.release.version);
    if (!d || !node.release) return node;
    const release: Deployed = { ...node.release, executionId: d.executionId, pipelineId: d.pipelineId };
    return { ...node, release };
  };
  return {
    ...view, author: mark(view.author), publish: view.publish.map(mark), dispatchers: view.dispatchers.map(mark), loadBalancer: mark(view.loadBalancer),
  };
}
