// A short-lived cache of serialized execution views: the hot read (clients poll executions).
// Entries are dropped as soon as the event bus reports a change to the execution or its
// pipeline (on PostgreSQL the bus also carries other processes' events), and expire after
// `ttlMs` anyway. A value computed while a change happened is not stored (generation check),
// so the cache never keeps a stale view.
import type { EventBus } from '../events/bus.ts';

interface Entry {
  value: string;
  until: number;
  executionId: string;
  pipelineId: string;
}

export class ViewCache {
  private readonly entries = new Map<string, Entry>();
  private gen = 0;
  private readonly unsubscribe: () => void;

  constructor(bus: EventBus, private readonly ttlMs = 1000, private readonly max = 1000) {
    this.unsubscribe = bus.subscribe((e) => {
      this.gen++;
      const pipelineWide = e.type === 'execution.started' || e.type === 'execution.ended';
      for (const [key, entry] of this.entries) {
        if (entry.executionId === e.executionId || (pipelineWide && entry.pipelineId === e.pipelineId)) this.entries.delete(key);
      }
    });
  }

  /** Take before computing a value; pass to set(). */
  get generation(): number {
    return this.gen;
  }

  get(key: string): string | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.until > Date.now()) return entry.value;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, generation: number, ids: { executionId: string; pipelineId: string }, value: string): void {
    if (generation !== this.gen) return;
    if (this.entries.size >= this.max) this.entries.clear();
    this.entries.set(key, { value, until: Date.now() + this.ttlMs, ...ids });
  }

  /** Everything changed (a pipeline, environment or repository was edited). */
  clear(): void {
    this.gen++;
    this.entries.clear();
  }

  close(): void {
    this.unsubscribe();
    this.entries.clear();
  }
}
