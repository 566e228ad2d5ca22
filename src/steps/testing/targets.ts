// The stage endpoints and credentials handed to tests, named as Cloud Manager names them.
import type { StepContext } from '../handler.ts';
import type { TopologyView } from '../../topology/driver.ts';

export async function describeStage(ctx: StepContext): Promise<TopologyView> {
  if (!ctx.environment) throw new Error(`${ctx.step.action} needs a target environment`);
  return ctx.driver.describe(ctx.environment);
}

/**
 * AEM_* variables of Cloud Manager's test containers. Publish is the load balancer (what users
 * reach). The credentials come from the step's pipeline variables when set (a technical
 * account of the site); Slipway's topology itself has no login, so the default is empty.
 */
export function targetEnv(view: TopologyView, variables: Record<string, string>): Record<string, string> {
  return {
    AEM_AUTHOR_URL: view.author.url,
    AEM_AUTHOR_USERNAME: variables['AEM_AUTHOR_USERNAME'] ?? '',
    AEM_AUTHOR_PASSWORD: variables['AEM_AUTHOR_PASSWORD'] ?? '',
    AEM_PUBLISH_URL: view.loadBalancer.url,
    AEM_PUBLISH_USERNAME: variables['AEM_PUBLISH_USERNAME'] ?? '',
    AEM_PUBLISH_PASSWORD: variables['AEM_PUBLISH_PASSWORD'] ?? '',
  };
}

/** The host ports of the environment under test that its tests may reach (load balancer, author). */
export function targetPorts(view: TopologyView): number[] {
  return [view.loadBalancer.url, view.author.url].map((url) => Number(new URL(url).port)).filter((port) => port > 0);
}
