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
  /**
   * The absolute base of every URL handed to clients (signed links, Location, environment
   * links): SLIPWAY_PUBLIC_URL, or else derived from the address the server listens on.
   * Never the request's Host header, which any client can set.
   */
  readonly publicUrl: string;
  /** Background jobs (environment provisioning) awaited when the server closes. */
  track(job: Promise<unknown>): void;
}

/**
 * The one place absolute URLs start from. The request is accepted so that call sites read
 * naturally, and deliberately not consulted (its Host header is the client's to choose).
 */
export function baseUrlOf(deps: ApiDeps, _req?: FastifyRequest): string {
  return deps.publicUrl.replace(/\/+$/, '');
}

/** `http://host:port` of a listening server (an unspecified address becomes 127.0.0.1). */
export function listenUrl(address: ReturnType<import('node:net').Server['address']>): string | undefined {
  if (!address || typeof address === 'string') return undefined;
  const host = address.address === '0.0.0.0' || address.address === '::' ? '127.0.0.1' : address.address;
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}
