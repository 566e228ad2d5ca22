// Runtime configuration, read once from the environment. Pure: the caller passes `env`.
export const MODES = ['author', 'publish'];

/**
 * @param {Record<string, string | undefined>} env
 * @param {string} packageVersion version from package.json, used when APP_VERSION is unset
 */
export function readConfig(env, packageVersion) {
  const mode = env.APP_MODE?.trim() || 'publish';
  if (!MODES.includes(mode)) {
    throw new Error(`APP_MODE must be one of ${MODES.join(', ')}, got "${mode}"`);
  }
  const port = env.PORT === undefined || env.PORT === '' ? 8080 : Number(env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PORT must be an integer between 0 and 65535, got "${env.PORT}"`);
  }
  return {
    mode,
    port,
    host: env.HOST?.trim() || '127.0.0.1',
    version: env.APP_VERSION?.trim() || packageVersion,
    dataDir: env.APP_DATA_DIR?.trim() || undefined,
    // How long a SIGTERM waits for in-flight requests before closing what is left.
    shutdownGraceMs: Number(env.SHUTDOWN_GRACE_MS) > 0 ? Number(env.SHUTDOWN_GRACE_MS) : 10_000,
  };
}
