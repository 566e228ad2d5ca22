// Signed, expiring URLs for step logs and artifacts: the clients fetch them without any
// Cloud Manager headers, so the URL itself carries the permission (HMAC-SHA256).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const URL_LIFETIME_MS = 60 * 60 * 1000;

/** The signing key: given, or a secret kept in the data directory so URLs survive restarts. */
export function signingKey(dataDir: string, given?: string): Buffer {
  if (given) return Buffer.from(given);
  const file = join(dataDir, 'secrets', 'url-signing.key');
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    try {
      writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; // another process won the race
    }
  }
  return Buffer.from(readFileSync(file, 'utf8').trim());
}

export class UrlSigner {
  constructor(private readonly key: Buffer, private readonly now: () => number = Date.now) {}

  private mac(parts: string[]): string {
    return createHmac('sha256', this.key).update(parts.join('\n')).digest('base64url');
  }

  /** `/<kind>/<a>/<b>?expires=…&signature=…` valid for `ttlMs`. */
  sign(kind: string, a: string, b: string, ttlMs = URL_LIFETIME_MS): string {
    const expires = this.now() + ttlMs;
    const signature = this.mac([kind, a, b, String(expires)]);
    return `/${kind}/${encodeURIComponent(a)}/${encodeURIComponent(b)}?expires=${expires}&signature=${signature}`;
  }

  /** Why the URL is not acceptable, or undefined when it is. */
  check(kind: string, a: string, b: string, expires: string | undefined, signature: string | undefined): string | undefined {
    if (!expires || !signature || !/^\d{1,15}$/.test(expires)) return 'missing or malformed signature';
    const expected = Buffer.from(this.mac([kind, a, b, expires]));
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'bad signature';
    if (Number(expires) < this.now()) return 'the link has expired';
    return undefined;
  }
}
