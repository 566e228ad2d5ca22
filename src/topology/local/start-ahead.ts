// The rolling deploy's `start` command: a batch's new publish processes started beside the
// running ones before the batch is drained (while author or the batch before is deployed), so
// the drained window holds only the switch, the flush, the warm-up and the checks. Each is
// recorded as its node's pending process until it is switched to; the ones never switched to
// (the roll failed or was cut off first) are stopped by discardAll.
import type { EnvRuntime, StartedApp } from './runtime.ts';
import type { SlotChoice } from './slots.ts';
import type { AppRelease } from './state.ts';

/** A pair's new publish process, started beside the running one, and the slot it runs on. */
export interface StartedAhead {
  started: StartedApp;
  slot: SlotChoice;
}

/** Runs `work` as a reported deploy command (RollingDeploy.step). */
export type StepRunner = <T>(node: string, action: string, work: () => Promise<T>, message?: string,
  outcome?: (result: T) => string) => Promise<T>;

export class StartsAhead {
  /** Pair index → its new publish process, started and not yet taken. */
  private readonly starts = new Map<number, Promise<StartedAhead>>();

  constructor(private readonly rt: EnvRuntime, private readonly step: StepRunner,
    private readonly slotFor: (i: number) => Promise<SlotChoice>) {}

  /**
   * Starts `release` beside the running publish process of each pair of `batch`, on the slot
   * its dispatcher does not route to. Settles once every start has; rejects with the first
   * failure. Nothing to start (no batch, or no app release: dispatcher only): resolves.
   */
  start(batch: readonly number[] | undefined, release: AppRelease | undefined): Promise<void> {
    if (!batch || !release) return Promise.resolve();
    const starts = batch.map((i) => {
      const pub = this.rt.publish(i);
      const start = this.step(pub.name, 'start', async () => {
        const slot = await this.slotFor(i);
        return { slot, started: await this.rt.startBeside(pub, release, slot.port) };
      }, undefined, (s) => `healthy after ${s.started.ms} ms`);
      start.catch(() => undefined); // awaited by the batch (or by discardAll); never unhandled
      this.starts.set(i, start);
      return start;
    });
    const all = Promise.allSettled(starts).then((results) => {
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    });
    all.catch(() => undefined);
    return all;
  }

  /** Pair i's process started ahead, if any; taken, the caller switches to it (or stops it). */
  take(i: number): Promise<StartedAhead> | undefined {
    const start = this.starts.get(i);
    this.starts.delete(i);
    return start;
  }

  /** Stops every process started ahead and not taken. */
  async discardAll(): Promise<void> {
    for (const i of [...this.starts.keys()]) {
      const ahead = await this.take(i)?.catch(() => undefined);
      if (ahead) await this.rt.discard(ahead.started);
    }
  }
}
