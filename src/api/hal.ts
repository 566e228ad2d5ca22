// HAL building blocks in Cloud Manager's dialect: relative hrefs, string ids, rels under
// http://ns.adobe.com/adobecloud/rel/, timestamps like 2019-07-08T22:44:32.267+0000.
import { executionPath, stepPath } from '../domain/cloud-events.ts';

export const REL_BASE = 'http://ns.adobe.com/adobecloud/rel/';
export const rel = (name: string): string => `${REL_BASE}${name}`;
/** Relations of Slipway's own actions, which Cloud Manager does not have: never under Adobe's namespace. */
export const SLIPWAY_REL_BASE = 'http://ns.slipway.dev/rel/';
export const slipwayRel = (name: string): string => `${SLIPWAY_REL_BASE}${name}`;

export interface HalLink {
  href: string;
  templated: boolean;
}
export type Links = Record<string, HalLink>;

export const link = (href: string, templated = false): HalLink => ({ href, templated });

/** Cloud Manager's timestamp form: millisecond ISO-8601 with a colon-less offset. */
export function cmTime(d: Date | undefined): string | undefined {
  return d ? d.toISOString().replace('Z', '+0000') : undefined;
}

/** Drops undefined values so serialized JSON has no `"x": null` noise. */
export function compact<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

export const paths = {
  program: (p: string) => `/api/program/${p}`,
  tenant: (t: string) => `/api/tenant/${encodeURIComponent(t)}`,
  repository: (p: string, r: string) => `/api/program/${p}/repository/${r}`,
  environment: (p: string, e: string) => `/api/program/${p}/environment/${e}`,
  pipeline: (p: string, pl: string) => `/api/program/${p}/pipeline/${pl}`,
  execution: executionPath,
  step: stepPath,
  /** Slipway's own UI page of an environment (a hash route of /ui/). */
  uiEnvironment: (p: string, e: string) => `/ui/#/program/${p}/environment/${e}`,
};

/** A paged list resource (`_totalNumberOfItems`, `_page`, next/prev/page links). */
export function pagedList(
  key: string, items: unknown[], base: string, page: { start: number; limit: number; total: number },
  extraLinks: Links = {},
): Record<string, unknown> {
  const { start, limit, total } = page;
  const at = (s: number) => `${base}?start=${s}&limit=${limit}`;
  const hasNext = start + items.length < total;
  const prev = Math.max(0, start - limit);
  const links: Links = { ...extraLinks, self: link(at(start)), page: link(`${base}?start={start}&limit={limit}`, true) };
  if (hasNext) links.next = link(at(start + limit));
  if (start > 0) links.prev = link(at(prev));
  return {
    _totalNumberOfItems: total,
    _page: compact({ start, limit, ...(hasNext ? { next: start + limit } : {}), ...(start > 0 ? { prev } : {}), property: [] }),
    _links: links,
    _embedded: { [key]: items },
  };
}

/** An unpaged list resource. */
export function list(key: string, items: unknown[], self: string, extraLinks: Links = {}): Record<string, unknown> {
  return { _totalNumberOfItems: items.length, _links: { ...extraLinks, self: link(self) }, _embedded: { [key]: items } };
}
