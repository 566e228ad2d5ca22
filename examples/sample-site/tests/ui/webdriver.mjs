// A minimal W3C WebDriver client over fetch: just the commands the UI tests use.
const ELEMENT_KEY = 'element-6066-11e4-a52e-4f735466cecf';

export class WebDriverError extends Error {
  constructor(message, { notWebDriver = false } = {}) {
    super(message);
    /** The endpoint answered, but not as a WebDriver server: waiting longer will not help. */
    this.notWebDriver = notWebDriver;
  }
}

async function call(baseUrl, method, path, body) {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json; charset=utf-8' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  let payload;
  try {
    payload = JSON.parse(text);
  } catch {
    throw new WebDriverError(`${method} ${path}: HTTP ${res.status}, not JSON: ${text.slice(0, 200)}`,
      { notWebDriver: true });
  }
  if (!res.ok || payload?.value?.error) {
    const value = payload?.value ?? {};
    throw new WebDriverError(`${method} ${path}: ${value.error ?? res.status}: ${value.message ?? text.slice(0, 200)}`);
  }
  return payload.value;
}

/** Polls GET /status until the remote end says it is ready. */
export async function waitUntilReady(baseUrl, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const status = await call(baseUrl, 'GET', '/status');
      if (status?.ready) return;
      last = status?.message ?? 'not ready';
    } catch (error) {
      if (error instanceof WebDriverError && error.notWebDriver) throw error;
      last = String(error); // not listening yet: retry
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new WebDriverError(`WebDriver at ${baseUrl} not ready after ${timeoutMs} ms: ${last}`);
}

export async function newSession(baseUrl, capabilities) {
  const value = await call(baseUrl, 'POST', '/session', { capabilities });
  return new Session(baseUrl, value.sessionId);
}

export class Session {
  constructor(baseUrl, id) {
    this.baseUrl = baseUrl;
    this.id = id;
  }

  #call(method, path, body) {
    return call(this.baseUrl, method, `/session/${this.id}${path}`, body);
  }

  navigate(url) { return this.#call('POST', '/url', { url }); }
  title() { return this.#call('GET', '/title'); }
  currentUrl() { return this.#call('GET', '/url'); }
  screenshot() { return this.#call('GET', '/screenshot'); }
  delete() { return call(this.baseUrl, 'DELETE', `/session/${this.id}`); }
  setTimeouts(timeouts) { return this.#call('POST', '/timeouts', timeouts); }

  async find(css) {
    const value = await this.#call('POST', '/element', { using: 'css selector', value: css });
    return value[ELEMENT_KEY];
  }

  async findAll(css) {
    const values = await this.#call('POST', '/elements', { using: 'css selector', value: css });
    return values.map((v) => v[ELEMENT_KEY]);
  }

  text(element) { return this.#call('GET', `/element/${element}/text`); }
  attribute(element, name) { return this.#call('GET', `/element/${element}/attribute/${name}`); }
  click(element) { return this.#call('POST', `/element/${element}/click`, {}); }
  type(element, text) { return this.#call('POST', `/element/${element}/value`, { text }); }

  /** Polls `probe` until it returns a truthy value. */
  async waitFor(probe, what, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    let last;
    while (Date.now() < deadline) {
      try {
        last = await probe();
        if (last) return last;
      } catch (error) {
        last = error;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new WebDriverError(`timed out waiting for ${what} (last: ${String(last)})`);
  }
}
