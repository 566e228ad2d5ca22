// Which repository URLs Slipway talks to. A URL comes from a program's operator, so it must not
// turn Slipway into a reader of local files or a probe of the host's network: local paths and
// file:// URLs are refused (Slipway's own repositories — the demo's `<data>/repos/…` — are
// created straight in the store, never through this check), and so are hosts that are or
// resolve to loopback, link-local, private or otherwise non-public addresses, unless an
// administrator allows the host by name in SLIPWAY_ALLOWED_GIT_HOSTS.
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

export class RepositoryUrlRefused extends Error {
  constructor(readonly url: string, why: string) {
    super(`repository URL ${url} refused: ${why}`);
    this.name = 'RepositoryUrlRefused';
  }
}

/** SLIPWAY_ALLOWED_GIT_HOSTS: comma-separated host names or addresses (lower-cased). */
export function parseAllowedGitHosts(text: string | undefined): string[] {
  const hosts = (text ?? '').split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
  for (const host of hosts) {
    if (!/^[a-z0-9.:_-]{1,253}$/.test(host)) throw new Error(`"${host}" is not a host name or address`);
  }
  return hosts;
}

/** The administrator's allowed hosts, as the process was started with them. */
export const allowedGitHosts = (): string[] => parseAllowedGitHosts(process.env.SLIPWAY_ALLOWED_GIT_HOSTS);

const NON_PUBLIC = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) NON_PUBLIC.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [['::', 127], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b::', 96]] as const) {
  NON_PUBLIC.addSubnet(net, prefix, 'ipv6');
}

export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  // IPv4-mapped IPv6 (::ffff:127.0.0.1) is judged as the IPv4 address it carries.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return !NON_PUBLIC.check(mapped, 'ipv4');
  return !NON_PUBLIC.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** The host of a git URL (`scheme://[user@]host[:port]/…` or scp-like `user@host:path`), or undefined for local ones. */
export function hostOf(url: string): string | undefined {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme) {
    if (scheme === 'file') return undefined;
    try {
      const host = new URL(url).hostname.toLowerCase();
      return host.startsWith('[') ? host.slice(1, -1) : host;
    } catch {
      throw new RepositoryUrlRefused(url, 'not a valid URL');
    }
  }
  return /^[A-Za-z0-9._-]+@([A-Za-z0-9.-]+):/.exec(url)?.[1]?.toLowerCase();
}

/** A local repository: an absolute path or a file:// URL (only Slipway itself creates those). */
/**
 * The repository URL as it may be shown or published (an image's source label): without user
 * name, password or token, query or fragment. scp-like "user@host:path" loses the user.
 */
export function publicRepositoryUrl(url: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    try {
      const parsed = new URL(url);
      parsed.username = '';
      parsed.password = '';
      parsed.search = '';
      parsed.hash = '';
      return parsed.toString();
    } catch {
      return url.replace(/\/\/[^/@]*@/, '//');
    }
  }
  return url.replace(/^[^@/:]+@(?=[^/:]+:)/, '');
}

export const isLocalRepository = (url: string): boolean => url.startsWith('/') || /^file:\/\//i.test(url);

type Lookup = (host: string) => Promise<string[]>;
const systemLookup: Lookup = async (host) => (await lookup(host, { all: true })).map((a) => a.address);

/**
 * Throws RepositoryUrlRefused unless Slipway may talk to `url`: a remote (http(s), git, ssh or
 * scp-like) whose host is allowed by name or resolves only to public addresses. Returns the
 * addresses a host name was checked at (empty for an allowed host or an address literal), so a
 * caller can pin its connection to them.
 */
export async function checkRepositoryUrl(url: string, allowed: readonly string[] = allowedGitHosts(), resolve: Lookup = systemLookup): Promise<string[]> {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme && !['https', 'http', 'git', 'ssh'].includes(scheme)) {
    throw new RepositoryUrlRefused(url, scheme === 'file' ? 'local repositories are not allowed' : `the ${scheme}:// scheme is not allowed`);
  }
  if (isLocalRepository(url)) throw new RepositoryUrlRefused(url, 'local repositories are not allowed');
  const host = hostOf(url);
  if (host === undefined) throw new RepositoryUrlRefused(url, 'not a remote git URL (https://, ssh://, git:// or user@host:path)');
  if (host.startsWith('-')) throw new RepositoryUrlRefused(url, 'invalid host');
  if (allowed.includes(host)) return [];
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : await resolve(host);
  } catch {
    throw new RepositoryUrlRefused(url, `the host ${host} does not resolve`);
  }
  const blocked = addresses.find((a) => !isPublicAddress(a));
  if (blocked !== undefined || addresses.length === 0) {
    throw new RepositoryUrlRefused(url, `the host ${host} is a loopback, link-local or private address (${blocked ?? 'none'}); an administrator may allow it in SLIPWAY_ALLOWED_GIT_HOSTS`);
  }
  return isIP(host) ? [] : addresses;
}

/**
 * git options that make an http(s) fetch connect to exactly the checked addresses, so a name
 * that resolves elsewhere a moment later (DNS rebinding) cannot steer git to the host.
 */
export function pinnedResolveArgs(url: string, addresses: readonly string[]): string[] {
  if (addresses.length === 0 || !/^https?:\/\//i.test(url)) return [];
  const parsed = new URL(url);
  const port = parsed.port || (parsed.protocol === 'https:' ? '443' : '80');
  const list = addresses.map((a) => (isIP(a) === 6 ? `[${a}]` : a)).join(',');
  return ['-c', `http.curloptResolve=${parsed.hostname}:${port}:${list}`];
}
