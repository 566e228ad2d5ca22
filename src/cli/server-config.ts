// The server's configuration as the CLI reads it (a bad one is a configuration exit code), and
// `slipway rotate-secrets-key`, which works on the data directory of a stopped server.
import { ConfigError, loadConfig, parseSecretsKey, type Config } from '../config.ts';
import { restrictUmask, secureDataDir } from '../data-dir.ts';
import { rotateSecretsKey } from '../secrets-key.ts';
import { migrate, openDb } from '../store/db.ts';
import { CliError, EXIT } from './exit-codes.ts';

/** The configuration from SLIPWAY_* variables; a bad one is a CLI error with the configuration exit code. */
export function serverConfig(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message, EXIT.configuration, { cause: error });
    throw error;
  }
}

/** `slipway rotate-secrets-key`: re-seals every secret with a new key; says what changed. */
export async function rotateSecretsKeyCommand(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const config = serverConfig(env);
  restrictUmask();
  let newKey: Buffer | undefined;
  try {
    const text = env.SLIPWAY_SECRETS_NEW_KEY?.trim();
    newKey = text ? parseSecretsKey(text, 'SLIPWAY_SECRETS_NEW_KEY') : undefined;
  } catch (error) {
    throw new CliError((error as Error).message, EXIT.configuration, { cause: error });
  }
  if (config.secretsKey && !newKey) {
    throw new CliError('SLIPWAY_SECRETS_KEY is set: give the new key in SLIPWAY_SECRETS_NEW_KEY (e.g. `openssl rand -base64 32`)', EXIT.configuration);
  }
  secureDataDir(config.dataDir);
  const db = openDb(config);
  try {
    await migrate(db);
    const { keyFile, resealed } = await rotateSecretsKey(config, db, newKey);
    return keyFile
      ? `Re-encrypted ${resealed} secret value(s); the new key is in ${keyFile}.`
      : `Re-encrypted ${resealed} secret value(s). Set SLIPWAY_SECRETS_KEY to the value of SLIPWAY_SECRETS_NEW_KEY before the next start.`;
  } finally {
    await db.close();
  }
}
