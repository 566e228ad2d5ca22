// The health endpoint: 200 when every check passes, 500 otherwise (Slipway treats any non-2xx as unhealthy).

/**
 * @param {string} version
 * @param {Array<() => { name: string, ok: boolean, detail?: string }>} checks
 */
export function checkHealth(version, checks) {
  const results = checks.map((check) => {
    try {
      return check();
    } catch (error) {
      return { name: check.name || 'check', ok: false, detail: String(error) };
    }
  });
  const failed = results.filter((r) => !r.ok);
  if (failed.length === 0) return { statusCode: 200, body: { status: 'ok', version } };
  return { statusCode: 500, body: { status: 'failing', version, failed } };
}
