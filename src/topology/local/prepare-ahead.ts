// The rolling deploy's routing prepared ahead (a forward deploy only): each pair's slot chosen,
// and, only where the switch needs a new VCL (dispatcher package or the app's health path
// changed, or slots not declared yet), that VCL compiled in the background, so the switch in
// the drained window is a `vcl.use` and the compile overlaps node starts (start-ahead.ts).
// Usually there is nothing to compile: the switch is two set_health commands. A preparation
// that failed, or no longer fits, means the pair does it in line.
import type { PreparedVcl, Routing, RoutingTarget } from './routing.ts';
import { portIsFree, type SlotChoice } from './slots.ts';

/** A pair's slot, chosen ahead, and its new VCL when the switch needs one (compiled ahead). */
interface PreparedPair {
  slot: Promise<SlotChoice>;
  vcl: Promise<PreparedVcl | undefined>;
}

function sameSlot(vcl: PreparedVcl, slot: SlotChoice): boolean {
  return vcl.backendPort === slot.port && vcl.slotPorts[0] === slot.slotPorts[0] && vcl.slotPorts[1] === slot.slotPorts[1];
}

export class PreparesAhead {
  /** Pair index → its slot and, if needed, new VCL. */
  private readonly prepared = new Map<number, PreparedPair>();

  constructor(private readonly routing: Routing) {}

  /** Starts preparing every pair of `pairs` for `targetOf` (`keepApp`: the app stays where it is). */
  prepare(pairs: readonly number[], targetOf: (i: number) => RoutingTarget, keepApp: boolean): void {
    // All compiles start at once: cc is the long pole, and in parallel they finish sooner
    // (measured: 1.6 s instead of 3.0 s for 3 pairs under load).
    for (const i of pairs) {
      const target = targetOf(i);
      const slot = this.routing.chooseSlot(i, keepApp);
      const vcl = slot.then((s) => (s.needsVcl || this.routing.needsVcl(i, target.dispatcher, target.healthPath)
        ? this.routing.prepareVcl(i, target.dispatcher, s.slotPorts, s.port, target.healthPath)
        : undefined));
      vcl.catch(() => undefined);
      slot.catch(() => undefined);
      this.prepared.set(i, { slot, vcl });
    }
  }

  /**
   * The slot pair i switches to: the one chosen ahead if its port is still free (checked again
   * right before the new process binds it), else chosen now.
   */
  async slot(i: number, keepApp: boolean): Promise<SlotChoice> {
    const ahead = await this.prepared.get(i)?.slot.catch(() => undefined);
    if (ahead && (keepApp || await portIsFree(ahead.port))) return ahead;
    return this.routing.chooseSlot(i, keepApp);
  }

  /** The prepared VCL of pair i if it fits `slot`; a prepared one that does not is discarded. */
  async take(i: number, slot: SlotChoice | undefined, healthPath?: string): Promise<PreparedVcl | undefined> {
    const entry = this.prepared.get(i);
    this.prepared.delete(i);
    const vcl = await entry?.vcl.catch(() => undefined);
    if (vcl && slot && sameSlot(vcl, slot) && vcl.healthPath === healthPath) return vcl;
    if (vcl) await this.routing.discardVcl(i, vcl.name);
    return undefined;
  }

  /** Discards every VCL prepared and not taken (the roll is over, or failed first). */
  async discardAll(): Promise<void> {
    for (const i of [...this.prepared.keys()]) await this.take(i, undefined);
  }
}
