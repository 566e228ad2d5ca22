// The lifecycle of an environment, as a total table like the steps' and executions': every
// (status, event) pair is a transition or a typed refusal. An environment is created
// `creating`, becomes `ready` or `failed` once its driver has provisioned it (or could not),
// and goes through `deleting` before it is gone. A crash mid-way leaves `creating` or
// `deleting`, which start-up takes up again (`resume`), so no environment stays half made.
import type { EnvironmentStatus } from './model.ts';
import { tableTransition, type Transition } from './transitions.ts';

export type EnvironmentEvent =
  | 'provisioned'     // the driver made its nodes
  | 'provisionFailed'
  | 'delete'          // someone asked to delete it (no execution may be running against it)
  | 'deleteFailed';   // the driver could not tear its nodes down

export const ENVIRONMENT_EVENTS: readonly EnvironmentEvent[] = ['provisioned', 'provisionFailed', 'delete', 'deleteFailed'];

const ENVIRONMENT_TABLE: Record<EnvironmentStatus, Partial<Record<EnvironmentEvent, EnvironmentStatus>>> = {
  // Deleting an environment still being made would race with its provisioning: refused.
  creating: { provisioned: 'ready', provisionFailed: 'failed' },
  ready: { delete: 'deleting' },
  // A failed environment can only go (its nodes may be half made).
  failed: { delete: 'deleting' },
  // Its end is the row's removal, not a status.
  deleting: { deleteFailed: 'failed' },
};

export const environmentTransition = (
  from: EnvironmentStatus, event: EnvironmentEvent,
): Transition<EnvironmentStatus, EnvironmentEvent> => tableTransition(ENVIRONMENT_TABLE, 'environment', from, event);

/** What start-up does with an environment a crash left mid-way; undefined: nothing to do. */
export function unfinishedWork(status: EnvironmentStatus): 'provision' | 'delete' | undefined {
  return status === 'creating' ? 'provision' : status === 'deleting' ? 'delete' : undefined;
}
