// Signed, expiring URLs for step logs and artifacts: the clients fetch them without any
// Cloud Manager headers, so the URL itself carries the permission (HMAC-SHA256). The key lives
// in the data directory; `slipway rotate-signing-key` replaces it, and every process sharing
// that directory signs and checks with the new key from its next request on, so every link
// signed before stops working.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const URL_LIFETIME_MS = 60 * 60 * 1000;

/** Where the signing key lives: `<dataDir>/secrets/url-signing.key` (0600). */
export const signingKeyFile = (dataDir: string): string => join(dataDir, 'secrets', 'url-signing.key');

/** The current key, looked up on every use (so a rotation shows at once). */
export type KeySource = () => Buffer;

function writeKeyFile(file: string, exclusive: boolean): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const key = randomBytes(32).toString('hex');
  if (exclusive) {
    try {
      writeFileSync(file, key, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; // another process won the race
    }
    return;
  }
  // Rotation: a whole new file renamed into place, so a reader never sees half a key.
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, key, { mode: 0o600, flag: 'wx' });
  renameSync(tmp, file);
}

/** Replaces the data directory's signing key; links signed with the old one stop working. */
export function rotateSigningKey(dataDir: string): void {
  writeKeyFile(signingKeyFile(dataDir), false);
}

/**
 * The signing key: given (fixed), or the data directory's key file, created on first use and
 * re-read whenever it was replaced (a stat per use; the file's inode changes on rotation).
 */
export function signingKey(dataDir: string, given?: string): KeySource {
  if (given) {
    const fixed = Buffer.from(given);
    return () => fixed;
  }
  const file = signingKeyFile(dataDir);
  let cached: { version: string; key: Buffer } | undefined;
  return () => {
    let info = statSync(file, { throwIfNoEntry: false });
    if (!info) {
      writeKeyFile(file, true);
      info = statSync(file);
    }
    const version = `${info.ino}:${info.mtimeMs}:${info.size}`;
    if (cached?.version !== version) cached = { version, key: Buffer.from(readFileSync(file, 'utf8').trim()) };
    return cached.key;
  };
}

export class UrlSigner {
  constructor(private readonly key: KeySource, private readonly now: () => number = Date.now) {}

  private mac(parts: string[]): string {
    return createHmac('sha256', this.key()).update(parts.join('\n')).digest('base64url');
  }

  /** An expiry and the signature over (kind, a, b, expiry): what a signed URL or token carries. */
  signature(kind: string, a: string, b: string, ttlMs = URL_LIFETIME_MS): { expires: number; signature: string } {
    const expires = this.now() + ttlMs;
    return { expires, signature: this.mac([kind, a, b, String(expires)]) };
  }

  /** `/<kind>/<a>/<b>?expires=…&signature=…` valid for `ttlMs`. */
  sign(kind: string, a: string, b: string, ttlMs = URL_LIFETIME_MS): string {
    const { expires, signature } = this.signature(kind, a, b, ttlMs);
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
