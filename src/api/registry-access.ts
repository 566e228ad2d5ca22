// Who may pull from Slipway's registry. Two kinds of credential:
// - Slipway's API tokens, as `Authorization: Bearer <token>` or as the password of Basic auth
//   (any user name), which is what `podman login`, `--creds` and Kubernetes' imagePullSecrets
//   send; the token's user needs the read role on the program.
// - Pull tokens: read-only, for one program's images, expiring. They are signed with the
//   URL-signing key (like signed log links), so nothing is stored, and `slipway
//   rotate-signing-key` revokes every pull token together with every signed link.
import type { FastifyRequest } from 'fastify';
import type { User } from '../store/users.ts';
import { userOfToken } from './auth.ts';
import type { ApiDeps } from './deps.ts';
import type { UrlSigner } from './signing.ts';

export type RegistryPrincipal = { kind: 'user'; user: User } | { kind: 'pull'; programId: string };

/** The user name a pull token goes with (any name is accepted; this one says what it is). */
export const PULL_USER = 'pull';
const PULL_PREFIX = 'slwpull';
const PULL_KIND = 'registry-pull';
export const DAY_MS = 24 * 60 * 60 * 1000;

export function issuePullToken(signer: UrlSigner, programId: string, ttlMs: number): { token: string; expiresAt: Date } {
  const { expires, signature } = signer.signature(PULL_KIND, programId, '', ttlMs);
  return { token: `${PULL_PREFIX}.${programId}.${expires}.${signature}`, expiresAt: new Date(expires) };
}

/** The program a valid, unexpired pull token is for; undefined for anything else. */
export function pullTokenProgram(signer: UrlSigner, token: string): string | undefined {
  const m = /^slwpull\.([1-9][0-9]{0,14})\.([0-9]{1,15})\.([A-Za-z0-9_-]{1,100})$/.exec(token);
  if (!m?.[1]) return undefined;
  return signer.check(PULL_KIND, m[1], '', m[2], m[3]) === undefined ? m[1] : undefined;
}

/** The secret a request carries: a Bearer token, or the password of Basic auth. */
export function credentialOf(authorization: string | undefined): string | undefined {
  const header = (authorization ?? '').trim();
  const bearer = /^Bearer\s+(\S{1,512})$/i.exec(header);
  if (bearer) return bearer[1];
  const basic = /^Basic\s+([A-Za-z0-9+/=]{1,1024})$/i.exec(header);
  if (!basic?.[1]) return undefined;
  const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const password = colon < 0 ? '' : decoded.slice(colon + 1);
  return password.length > 0 && password.length <= 512 ? password : undefined;
}

/** 'none': no credential given; 'invalid': one given that is nobody's. */
export async function registryPrincipal(deps: ApiDeps, req: FastifyRequest): Promise<RegistryPrincipal | 'none' | 'invalid'> {
  const secret = credentialOf(req.headers.authorization);
  if (!secret) return 'none';
  if (secret.startsWith(`${PULL_PREFIX}.`)) {
    const programId = pullTokenProgram(deps.signer, secret);
    return programId ? { kind: 'pull', programId } : 'invalid';
  }
  const user = await userOfToken(deps, secret);
  return user ? { kind: 'user', user } : 'invalid';
}
