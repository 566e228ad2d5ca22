// Secret variable values at rest: AES-256-GCM with a key kept outside the database. Each sealed
// value names the key it was sealed with (a short fingerprint), so a rotation interrupted half
// way, or a value sealed under the previous key, is still readable while both keys are known.
// The associated data binds a value to its row: a sealed value copied onto another variable
// does not open.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const PREFIX = 'slwenc:v1:';
export const SECRETS_KEY_BYTES = 32;

export class SecretBoxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretBoxError';
  }
}

/** A short, non-secret name for a key (the first 8 bytes of its SHA-256). */
export const keyIdOf = (key: Buffer): string => createHash('sha256').update(key).digest('hex').slice(0, 16);

export class SecretBox {
  private readonly keys = new Map<string, Buffer>();
  readonly currentKeyId: string;

  /** `current` seals; `others` (a previous or pending key) only open. */
  constructor(current: Buffer, others: Buffer[] = []) {
    for (const key of [current, ...others]) {
      if (key.length !== SECRETS_KEY_BYTES) throw new SecretBoxError(`a secrets key has ${SECRETS_KEY_BYTES} bytes, not ${key.length}`);
      this.keys.set(keyIdOf(key), key);
    }
    this.currentKeyId = keyIdOf(current);
  }

  static isSealed(stored: string): boolean {
    return stored.startsWith(PREFIX);
  }

  /** The key a stored value was sealed with; undefined for a (legacy) plaintext value. */
  static keyIdOf(stored: string): string | undefined {
    return SecretBox.isSealed(stored) ? stored.slice(PREFIX.length).split(':')[0] : undefined;
  }

  seal(plain: string, context: string): string {
    const key = this.keys.get(this.currentKeyId)!;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `${PREFIX}${this.currentKeyId}:${[iv, cipher.getAuthTag(), body].map((b) => b.toString('base64url')).join(':')}`;
  }

  /** The plaintext of a sealed value; a plaintext (not yet migrated) value is returned as is. */
  open(stored: string, context: string): string {
    if (!SecretBox.isSealed(stored)) return stored;
    const [keyId, iv, tag, body] = stored.slice(PREFIX.length).split(':');
    const key = keyId ? this.keys.get(keyId) : undefined;
    if (!key || iv === undefined || tag === undefined || body === undefined) {
      throw new SecretBoxError(`a secret value was sealed with key ${keyId ?? '?'}, which is not the configured secrets key (SLIPWAY_SECRETS_KEY or the key file)`);
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'))
        .setAAD(Buffer.from(context)).setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretBoxError(`a secret value (${context}) does not open with key ${keyId}: it was altered or moved`);
    }
  }
}
