// The one way tests wait for event-driven code: poll `check` until it gives a truthy value (and
// return it), or fail after a bound that only keeps a broken test from hanging. The bound is
// not what the test asserts (rule 6: invariants, never timings).
export async function eventually<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 15_000,
  /** What was awaited, for the failure message (a function: read when it fails, e.g. a log). */
  what: string | (() => string) = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}
