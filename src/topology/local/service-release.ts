// A release whose author and publish services get different variables. TopologyDriver's
// Release carries one variables map (used for publish); until it grows a per-service field,
// callers that have author variables pass them here and the local driver uses them.
import type { Release } from '../driver.ts';

export interface ServiceRelease extends Release {
  /** Variables for the author service (Release.variables are publish's). */
  authorVariables?: Record<string, string>;
}

export function authorVariablesOf(release: Release): Record<string, string> {
  const extra = (release as ServiceRelease).authorVariables;
  return extra ?? release.variables;
}
