// The HTTP side of webhooks, as Adobe I/O Events does it: the signature over the raw body,
// the challenge that proves an endpoint wants the events, and URL checks.
import { createHmac, randomUUID } from 'node:crypto';

/** `x-adobe-signature`: base64 HMAC-SHA256 of the raw body with the subscription's secret. */
export const signBody = (body: string, secret: string): string => createHmac('sha256', secret).update(body).digest('base64');

/** Only http(s) endpoints: webhook URLs come from program operators, but no other scheme is fetched. */
export function webhookUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `${url} is not a URL`;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `${url}: only http and https URLs can receive webhooks`;
  return undefined;
}

/**
 * `GET url?challenge=X` must answer X (as plain text or `{"challenge": X}`, as Adobe I/O accepts).
 * Returns why the endpoint failed, or undefined when it passed.
 */
export async function challengeProblem(url: string, timeoutMs = 5000): Promise<string | undefined> {
  const challenge = randomUUID();
  const target = new URL(url);
  target.searchParams.set('challenge', challenge);
  let status: number;
  let text: string;
  try {
    const res = await fetch(target, { redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    status = res.status;
    text = (await res.text()).slice(0, 4096).trim();
  } catch (e) {
    return `${url} did not answer the challenge: ${e instanceof Error ? e.message : String(e)}`;
  }
  if (status < 200 || status > 299) return `${url} answered the challenge with HTTP ${status}`;
  if (text === challenge) return undefined;
  try {
    if ((JSON.parse(text) as { challenge?: unknown }).challenge === challenge) return undefined;
  } catch {
    // not JSON: the plain text did not match either
  }
  return `${url} did not echo the challenge (GET ?challenge=X must answer X)`;
}
