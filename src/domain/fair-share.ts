// Fair sharing of the engine: one program's runnable steps may hold only so many slots at
// once, so a program that queues many executions (or a burst of ON_COMMIT pushes) cannot take
// every slot and starve the others. Pure.

/** Slots one program may hold: the configured quota, else half the engine's slots; at least 1. */
export function programSlots(engineSlots: number, configured?: number): number {
  const quota = configured ?? Math.floor(engineSlots / 2);
  return Math.max(1, Math.min(quota, engineSlots));
}

