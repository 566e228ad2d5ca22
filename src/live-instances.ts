// What is open in this process and must be closed: Slipways (with their engine, driver and
// database) and API servers. Left open, one holds processes, sockets and connections after its
// owner is done; the test guard (test/support/leak-guard.ts) fails a test file that does so.
export type InstanceKind = 'Slipway' | 'API server';

const live = new Map<symbol, InstanceKind>();

/** Counts an instance as open; call the returned function when it is closed. */
export function opened(kind: InstanceKind): () => void {
  const id = Symbol(kind);
  live.set(id, kind);
  return () => live.delete(id);
}

/** The kinds of the instances open now, one entry each. */
export function liveInstances(): InstanceKind[] {
  return [...live.values()];
}
