// Programs, tenants, repositories, environments and variables as Cloud Manager shows them.
import type { Environment, Program, Repository, Variable } from '../domain/model.ts';
import type { LogOption } from '../topology/driver.ts';
import { cmTime, compact, link, list, paths, rel, type Links } from './hal.ts';

export function programJson(p: Program, embedded = false): Record<string, unknown> {
  const links: Links = { [rel('tenant')]: link(paths.tenant(p.tenantId)), self: link(paths.program(p.id)) };
  if (!embedded) {
    Object.assign(links, {
      [rel('pipelines')]: link(`${paths.program(p.id)}/pipelines`),
      [rel('environments')]: link(`${paths.program(p.id)}/environments`),
      [rel('repositories')]: link(`${paths.program(p.id)}/repositories`),
    });
  }
  return compact({
    _links: links, id: p.id, name: p.name, enabled: p.enabled, tenantId: p.tenantId, status: 'ready',
    ...(embedded ? {} : { type: 'aem_cloud_service' }),
    createdAt: cmTime(p.createdAt), updatedAt: cmTime(p.updatedAt),
  });
}

export function tenantJson(tenantId: string): Record<string, unknown> {
  return {
    _links: { [rel('programs')]: link(`${paths.tenant(tenantId)}/programs`), self: link(paths.tenant(tenantId)) },
    id: tenantId, description: tenantId,
  };
}

export function repositoryJson(r: Repository): Record<string, unknown> {
  const self = paths.repository(r.programId, r.id);
  return {
    _links: { [rel('program')]: link(paths.program(r.programId)), [rel('branches')]: link(`${self}/branches`), self: link(self) },
    id: r.id, programId: r.programId, repo: r.name, name: r.name, description: r.description, repositoryUrl: r.url,
  };
}

/** Absolute URLs where a ready environment can be visited (Cloud Manager's author, publish and developerConsole links). */
export interface EnvironmentSites {
  author?: string;
  publish?: string;
  developerConsole: string;
}

/** `logOptions`: the logs the environment's driver keeps (Cloud Manager's availableLogOptions). */
export function environmentJson(e: Environment, sites?: EnvironmentSites, logOptions: readonly LogOption[] = []): Record<string, unknown> {
  const self = paths.environment(e.programId, e.id);
  const links: Links = {
    [rel('program')]: link(paths.program(e.programId)),
    [rel('variables')]: link(`${self}/variables`),
    [rel('logs')]: link(`${self}/logs?service={service}&name={name}&days={days}`, true),
    [rel('topology')]: link(`${self}/topology`),
  };
  if (sites?.author) links[rel('author')] = link(sites.author);
  if (sites?.publish) links[rel('publish')] = link(sites.publish);
  if (sites) links[rel('developerConsole')] = link(sites.developerConsole);
  links.self = link(self);
  return {
    _links: links,
    id: e.id, programId: e.programId, name: e.name, description: e.description, type: e.type,
    status: e.status, region: e.region, publishCount: e.settings.publishCount, driver: e.settings.driver ?? 'local',
    availableLogOptions: logOptions,
    createdAt: cmTime(e.createdAt), updatedAt: cmTime(e.updatedAt),
  };
}

/** Secret values never leave the server: a secretString variable is listed without `value`. */
export function variablesJson(vars: Variable[], self: string, owner: Links): Record<string, unknown> {
  const items = vars.map((v) => compact({
    name: v.name, ...(v.type === 'secretString' ? {} : { value: v.value }), type: v.type, service: v.service, status: 'ready',
  }));
  return list('variables', items, self, owner);
}
