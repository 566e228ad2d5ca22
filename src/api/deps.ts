// What every route module gets: the Slipway, the URL signer, and where to park background work.
import type { FastifyRequest } from 'fastify';
import type { Slipway } from '../app.ts';
import type { UrlSigner } from './signing.ts';
import type { ViewCache } from './view-cache.ts';

export interface ApiDeps {
  slipway: Slipway;
  signer: UrlSigner;
  /** Serialized execution views (see view-cache.ts); clear() after edits that change them. */
  views: ViewCache;
  /** Absolute base for URLs handed to clients (signed log links, Location); default: the request's own. */
  publicUrl?: string;
  /** Background jobs (environment provisioning) awaited when the server closes. */
  track(job: Promise<unknown>): void;
}

export function baseUrlOf(deps: ApiDeps, req: FastifyRequest): string {
  return (deps.publicUrl ?? `${req.protocol}://${req.host}`).replace(/\/+$/, '');
}
