// What each dispatcher routes to: its pair's two slots (slots.ts) and the VCL that declares
// them. A switch costs, cheapest first: two set_health commands to the other slot (the VCL
// holds), a VCL compiled ahead and put to use, or a VCL compiled there and then. A new VCL is
// needed only when the dispatcher package, the app's health path or the slots change.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../../runner/free-port.ts';
import type { ProvisionedEnv } from './provisioned-env.ts';
import { chooseSlot, portIsFree, slotIndex, type SlotChoice, type SlotPorts } from './slots.ts';
import type { DispatcherRelease } from './state.ts';
import { generateVcl } from './varnish.ts';

/** A VCL compiled ahead of its switch (cold: no probes until it is used), its slots already routed. */
export interface PreparedVcl {
  name: string;
  file: string;
  slotPorts: SlotPorts;
  /** The slot port it routes to. */
  backendPort: number;
  release: DispatcherRelease | undefined;
  /** The publish health path it probes (and maps the dispatcher's health endpoint to). */
  healthPath: string;
}

/** What a dispatcher is brought to serve. */
export interface RoutingTarget {
  dispatcher: DispatcherRelease | undefined;
  /** The health path of what the publish node runs afterwards (the dispatcher's VCL probes it). */
  healthPath: string;
  /** Re-apply the dispatcher's routing even when nothing changed (after a crash mid-pair). */
  forceRouting?: boolean;
}

export function sameDispatcherRelease(a: DispatcherRelease | undefined, b: DispatcherRelease | undefined): boolean {
  return (a?.dispatcherImage ?? null) === (b?.dispatcherImage ?? null) && (a === undefined) === (b === undefined);
}

export class Routing {
  constructor(private readonly env: ProvisionedEnv) {}

  /** Pair i's slots and the port its next publish process gets (see slots.ts). */
  async chooseSlot(i: number, keepApp: boolean): Promise<SlotChoice> {
    const d = this.env.dispatcher(i);
    const choice = await chooseSlot({ recorded: d.slotPorts, current: this.env.publish(i).port, keepApp, isFree: portIsFree, freshPort: freePort });
    if (choice.needsVcl && d.slotPorts) this.env.opts.log(`${d.name}: slots ${d.slotPorts.join(',')} -> ${choice.slotPorts.join(',')}`);
    return choice;
  }

  /** Does dispatcher i need a new VCL to serve `release` in front of an app checked on `healthPath`? */
  needsVcl(i: number, release: DispatcherRelease | undefined, healthPath: string): boolean {
    const d = this.env.dispatcher(i);
    return !sameDispatcherRelease(d.release, release) || d.healthPath !== healthPath;
  }

  /**
   * Writes and compiles (cold) the VCL for `release` declaring `slotPorts`, routed to
   * `backendPort`, probing `healthPath`. Compiling takes most of a second, so the rolling
   * deploy does it ahead, while nodes start (prepare-ahead.ts).
   */
  async prepareVcl(i: number, release: DispatcherRelease | undefined, slotPorts: SlotPorts, backendPort: number,
    healthPath: string): Promise<PreparedVcl> {
    const d = this.env.dispatcher(i);
    const index = slotIndex(slotPorts, backendPort);
    if (index === undefined) throw new Error(`${d.name}: port ${backendPort} is not one of the slots ${slotPorts.join(',')}`);
    const pkg = await this.env.images.dispatcherPackage(release?.dispatcherImage);
    d.vclSeq += 1;
    const seq = d.vclSeq;
    await this.env.save(); // a name Varnish may already know is never reused, even after a crash
    const file = join(this.env.state.dir, 'dispatchers', d.name, `vcl-${seq}.vcl`);
    await writeFile(file, generateVcl({ dispatcherName: d.name, slotPorts, healthPath, pkg }));
    const name = `v${seq}`;
    const admin = this.env.varnish(i);
    await admin.adm('vcl.load', name, file, 'cold');
    await admin.routeTo(index, name); // set_health holds on a cold VCL and once it is warm
    return { name, file, slotPorts, backendPort, release, healthPath };
  }

  /** Drops VCL `name` from dispatcher i's Varnish; one it still uses, or no longer knows, stays as it is. */
  async discardVcl(i: number, name: string): Promise<void> {
    await this.env.varnish(i).adm('vcl.discard', name).catch(() => undefined);
  }

  /**
   * Points dispatcher i at `slot` to serve `target`: `prepared` (a VCL compiled ahead for this
   * very slot), else a VCL compiled now if one is needed, else just the slot switch. Returns
   * what it did, for the deploy's report.
   */
  async switchTo(i: number, slot: SlotChoice, target: RoutingTarget, prepared: PreparedVcl | undefined): Promise<string> {
    const version = target.dispatcher?.version ?? 'nothing';
    if (prepared) {
      await this.useVcl(i, prepared);
      return `${version}: VCL ${prepared.name}, port ${slot.port}`;
    }
    // After a crash mid-switch the VCL Varnish runs may not be the recorded one: then compile.
    const vclKnown = target.forceRouting !== true || await this.activeVclIsRecorded(i);
    if (slot.needsVcl || !vclKnown || this.needsVcl(i, target.dispatcher, target.healthPath)) {
      await this.useVcl(i, await this.prepareVcl(i, target.dispatcher, slot.slotPorts, slot.port, target.healthPath));
      return `${version}: new VCL, port ${slot.port}`;
    }
    await this.switchSlot(i, slot.port, target.dispatcher);
    return `${version}: port ${slot.port}`;
  }

  /** Switches dispatcher i to a prepared VCL and records it. */
  private async useVcl(i: number, vcl: PreparedVcl): Promise<void> {
    const d = this.env.dispatcher(i);
    const admin = this.env.varnish(i);
    // A cold VCL must be warmed (probes start, `.initial` says healthy) before it can be used;
    // back to auto afterwards so it cools down once replaced.
    await admin.adm('vcl.state', vcl.name, 'warm');
    await admin.adm('vcl.use', vcl.name);
    await admin.adm('vcl.state', vcl.name, 'auto');
    if (d.activeVcl && d.activeVcl !== vcl.name) await this.discardVcl(i, d.activeVcl);
    Object.assign(d, { activeVcl: vcl.name, vclFile: vcl.file, backendPort: vcl.backendPort, slotPorts: vcl.slotPorts,
      release: vcl.release, healthPath: vcl.healthPath });
    await this.env.save();
  }

  /**
   * The compile-free switch: dispatcher i routes to the slot on `port` (its active VCL declares
   * both) and now serves `release` (same package: the VCL holds). Returns once Varnish reports
   * the new routing, so the old process may be stopped.
   */
  private async switchSlot(i: number, port: number, release: DispatcherRelease | undefined): Promise<void> {
    const d = this.env.dispatcher(i);
    const index = d.slotPorts ? slotIndex(d.slotPorts, port) : undefined;
    if (index === undefined) throw new Error(`${d.name}: port ${port} is not one of its slots`);
    await this.env.varnish(i).routeTo(index);
    d.backendPort = port;
    d.release = release;
    await this.env.save();
  }

  /** Is the VCL Varnish runs the one the state records? (Not certain after a crash mid-switch.) */
  private async activeVclIsRecorded(i: number): Promise<boolean> {
    const d = this.env.dispatcher(i);
    const list = await this.env.varnish(i).adm('vcl.list').catch(() => '');
    const active = list.split('\n').map((l) => l.trim().split(/\s+/)).find((f) => f[0] === 'active');
    return d.activeVcl !== undefined && active?.[4] === d.activeVcl;
  }
}
