// Backend slots: each publish node has two fixed ports, both declared by its dispatcher's VCL
// (slot_a, slot_b). A deploy starts the new process on the slot the current one does not use
// and switches the dispatcher with set_health, so no VCL is compiled unless the dispatcher
// package changes. The choice below is pure apart from the two port probes it is given.
import { createServer } from 'node:net';

export type SlotPorts = [number, number];

/** Where a pair's publish process goes next, and whether its dispatcher needs a new VCL for that. */
export interface SlotChoice {
  /** The new publish process's port (the current one when the app is left alone). */
  port: number;
  slotPorts: SlotPorts;
  /** The active VCL does not declare these slots (state from before slots, or a slot port taken). */
  needsVcl: boolean;
}

export interface SlotInput {
  /** The slots the active VCL declares; absent in states written before slots. */
  recorded: SlotPorts | undefined;
  /** The port the publish node's recorded process runs on. */
  current: number;
  /** The app stays where it is (dispatcher-only change). */
  keepApp: boolean;
  isFree: (port: number) => Promise<boolean>;
  freshPort: () => Promise<number>;
}

export function slotIndex(slotPorts: readonly [number, number], port: number): 0 | 1 | undefined {
  if (slotPorts[0] === port) return 0;
  return slotPorts[1] === port ? 1 : undefined;
}

/**
 * The new process gets the slot the current one does not use. Slots missing, or not holding
 * the current process, are recorded afresh (the current port becomes slot a); a slot port that
 * something else took is replaced. Either way the dispatcher then needs a new VCL.
 */
export async function chooseSlot(input: SlotInput): Promise<SlotChoice> {
  const { recorded, current } = input;
  const usable = recorded && slotIndex(recorded, current) !== undefined ? recorded : undefined;
  const slotPorts: SlotPorts = usable ? [usable[0], usable[1]] : [current, await input.freshPort()];
  let needsVcl = usable === undefined;
  if (input.keepApp) return { port: current, slotPorts, needsVcl };
  const next = slotIndex(slotPorts, current) === 0 ? 1 : 0;
  if (!await input.isFree(slotPorts[next])) {
    slotPorts[next] = await input.freshPort();
    needsVcl = true;
  }
  return { port: slotPorts[next], slotPorts, needsVcl };
}

/** Can we listen on 127.0.0.1:port right now? (An idle slot's port may have been taken meanwhile.) */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
