// The key that seals secret variables lives apart from the database: in SLIPWAY_SECRETS_KEY,
// or in a 0600 key file (default <data>/secrets.key, created on first start). A rotation
// writes the new key beside the old one (`<file>.new`) before it re-seals, so a crash at any
// moment leaves every value readable: the next start knows both keys and finishes the job.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { parseSecretsKey, type Config } from './config.ts';
import { tx, type Db } from './store/db.ts';
import { SECRETS_KEY_BYTES, SecretBox } from './store/secret-box.ts';
import { resealSecrets } from './store/variables.ts';
import { resealWebhookSecrets } from './store/webhooks.ts';

export type SecretsKeyConfig = Pick<Config, 'dataDir'> & Partial<Pick<Config, 'secretsKey' | 'secretsKeyFile'>>;

const keyFileOf = (config: SecretsKeyConfig) => config.secretsKeyFile ?? `${config.dataDir}/secrets.key`;
const pendingFileOf = (config: SecretsKeyConfig) => `${keyFileOf(config)}.new`;

function readKeyFile(path: string): Buffer {
  chmodSync(path, 0o600);
  return parseSecretsKey(readFileSync(path, 'utf8'), path);
}

function writeKeyFile(path: string, key: Buffer): void {
  writeFileSync(path, `${key.toString('base64')}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
}

/** The configured key (creating the key file on first use) and a pending one from a rotation cut short. */
function loadKeys(config: SecretsKeyConfig): { current: Buffer; pending?: Buffer } {
  const pendingFile = pendingFileOf(config);
  const pending = existsSync(pendingFile) ? readKeyFile(pendingFile) : undefined;
  if (config.secretsKey) return { current: config.secretsKey, ...(pending ? { pending } : {}) };
  const file = keyFileOf(config);
  if (!existsSync(file)) writeKeyFile(file, randomBytes(SECRETS_KEY_BYTES));
  return { current: readKeyFile(file), ...(pending ? { pending } : {}) };
}

/**
 * Opens the secrets box and seals every secret value with the current key: plaintext values
 * from before encryption, and values left under a pending key by an interrupted rotation.
 */
/** Every sealed value: secret variables and webhook secrets. */
async function resealAll(db: Db, from: SecretBox, to: SecretBox = from): Promise<number> {
  return tx(db, async (trx) => await resealSecrets(trx, from, to) + await resealWebhookSecrets(trx, from, to));
}

export async function openSecretBox(config: SecretsKeyConfig, db: Db): Promise<SecretBox> {
  const { current, pending } = loadKeys(config);
  const box = new SecretBox(current, pending ? [pending] : []);
  await resealAll(db, box);
  if (pending) rmSync(pendingFileOf(config), { force: true });
  return box;
}

/**
 * Re-seals every secret with a new key, in one transaction. With a key file the new key
 * replaces it; with SLIPWAY_SECRETS_KEY the caller gives the new key (`newKey`) and must put it
 * into SLIPWAY_SECRETS_KEY before the next start. Run it while Slipway is stopped: a running
 * Slipway still holds the old key.
 */
export async function rotateSecretsKey(config: SecretsKeyConfig, db: Db, newKey?: Buffer): Promise<{ keyFile?: string; resealed: number }> {
  if (config.secretsKey && !newKey) throw new Error('the secrets key comes from SLIPWAY_SECRETS_KEY: give the new key in SLIPWAY_SECRETS_NEW_KEY');
  const next = newKey ?? randomBytes(SECRETS_KEY_BYTES);
  // First finish any rotation cut short, so the pending file is free for this one.
  const from = await openSecretBox(config, db);
  const to = new SecretBox(next);
  if (config.secretsKey) {
    const resealed = await resealAll(db, from, to);
    return { resealed };
  }
  // The new key is on disk before any value depends on it; the rename makes it the key.
  writeKeyFile(pendingFileOf(config), next);
  const resealed = await resealAll(db, from, to);
  renameSync(pendingFileOf(config), keyFileOf(config));
  return { keyFile: keyFileOf(config), resealed };
}
