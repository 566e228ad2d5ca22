// One load per key, shared by every caller that asks while it runs and kept once it succeeds;
// a failed load is forgotten, so the next call tries again. Images are unpacked (local driver)
// or loaded into podman (container driver) this way: once per digest, however many nodes start.
export class LoadOnce<T> {
  private readonly loads = new Map<string, Promise<T>>();

  constructor(private readonly load: (key: string) => Promise<T>) {}

  get(key: string): Promise<T> {
    let pending = this.loads.get(key);
    if (!pending) {
      pending = this.load(key);
      pending.catch(() => this.loads.delete(key));
      this.loads.set(key, pending);
    }
    return pending;
  }

  /** What was loaded is gone (an image pruned from podman's storage): the next get loads it again. */
  forget(key: string): void {
    this.loads.delete(key);
  }
}
