// The rolling deploy's `start` command: a batch's new publish processes started beside the
// running ones before the batch is drained (while author or the batch before is deployed), so
// the drained window holds only the switch, the flush, the warm-up and the checks. The starts
// run one after another: batch j starts once batch j-1 is up and batch j-2 is back in the load
// balancer, so at most two batches' new processes wait beside the old ones. Each is recorded
// as its node's pending process until it is switched to; the ones never switched to (the roll
// failed or was cut off first) are stopped by discardAll.
import { allSettledOrThrow } from './all-settled.ts';
import type { StartedApp } from './app-nodes.ts';
import { healthyAfter, type DeploySteps } from './deploy-steps.ts';
import type { EnvRuntime } from './runtime.ts';
import type { SlotChoice } from './slots.ts';
import type { AppRelease } from './state.ts';

/** A pair's new publish process, started beside the running one, and the slot it runs on. */
export interface StartedAhead {
  started: StartedApp;
  slot: SlotChoice;
}

export class StartsAhead {
  /** Pair index → its new publish process, started and not yet taken. */
  private readonly starts = new Map<number, Promise<StartedAhead>>();
  private readonly broughtBack: (() => void)[] = [];
  private closed = false;

  constructor(private readonly rt: EnvRuntime, private readonly steps: DeploySteps,
    private readonly slotFor: (i: number) => Promise<SlotChoice>) {}

  /**
   * Schedules the start of every batch (see the top of this file). Returns, per batch, a
   * promise that settles once its processes are up, or rejects with the first failed start
   * (the batches after it then never start).
   */
  schedule(batches: readonly (readonly number[])[], release: AppRelease | undefined): Promise<void>[] {
    const back = batches.map((_, k) => new Promise<void>((resolve) => { this.broughtBack[k] = resolve; }));
    const up: Promise<void>[] = [];
    batches.forEach((batch, j) => {
      const ready = Promise.all([up[j - 1], j >= 2 ? back[j - 2] : undefined]);
      const started = ready.then(() => this.start(batch, release));
      started.catch(() => undefined); // awaited by the roll, batch by batch
      up.push(started);
    });
    return up;
  }

  /** Batch k is switched and back in the load balancer: the batch two after it may start. */
  brought(k: number): void {
    this.broughtBack[k]?.();
  }

  /**
   * Starts `release` beside the running publish process of each pair of `batch`, on the slot
   * its dispatcher does not route to. Settles once every start has; rejects with the first
   * failure. Nothing to start (no app release: dispatcher only; or the roll is over): resolves.
   */
  private start(batch: readonly number[], release: AppRelease | undefined): Promise<void> {
    if (!release || this.closed) return Promise.resolve();
    const starts = batch.map((i) => {
      const pub = this.rt.publish(i);
      const start = this.steps.step(pub.name, 'start', async () => {
        const slot = await this.slotFor(i);
        return { slot, started: await this.rt.appNodes.startBeside(pub, release, slot.port) };
      }, undefined, (s) => healthyAfter(s.started.ms));
      start.catch(() => undefined); // awaited by the batch (or by discardAll); never unhandled
      this.starts.set(i, start);
      return start;
    });
    const all = allSettledOrThrow(starts);
    all.catch(() => undefined);
    return all;
  }

  /** Pair i's process started ahead, if any; taken, the caller switches to it (or stops it). */
  take(i: number): Promise<StartedAhead> | undefined {
    const start = this.starts.get(i);
    this.starts.delete(i);
    return start;
  }

  /** Starts nothing more, and stops every process started ahead and not taken. */
  async discardAll(): Promise<void> {
    this.closed = true;
    for (const i of [...this.starts.keys()]) {
      const ahead = await this.take(i)?.catch(() => undefined);
      if (ahead) await this.rt.appNodes.discard(ahead.started);
    }
  }
}
