// Response headers shared by every route: security policy and cache lifetimes.

/** Sent on every response. The CSP allows only same-origin resources and no framing. */
export const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
    "form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'strict-origin-when-cross-origin',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=()',
};

/** Assets are long-lived (their content only changes with a release); pages are short-lived. */
export const CACHE_CONTROL = {
  asset: 'public, max-age=31536000, immutable',
  page: 'public, max-age=60',
  private: 'no-store',
};

/**
 * @param {import('node:http').ServerResponse} res
 * @param {string} version
 */
export function applyCommonHeaders(res, version) {
  res.setHeader('X-App-Version', version);
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
}
