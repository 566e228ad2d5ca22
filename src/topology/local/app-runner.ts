// How an app node's process is started and stopped: the one part of an environment that differs
// between drivers. The local driver runs the unpacked image's command in the sandbox; the
// container driver runs the image itself with podman. Either way the result is a ProcessRecord
// whose pid and kernel start time name the node's process (proc.ts isOurProcess), so the
// rolling deploy, the supervisor and adopt treat both alike.
import type { ImageCache } from './images.ts';
import { ownerMarker, startAppNode, type AppNodeStart } from './nodes.ts';
import { markedProcesses, stopProcess, withStartTicks, type ProcessRecord } from './proc.ts';

export type { AppNodeStart } from './nodes.ts';

export interface AppRunner {
  start(input: AppNodeStart): Promise<ProcessRecord>;
  /** Stops the node gracefully (SIGTERM, SIGKILL after graceMs) and frees what it left; a dead one too. */
  stop(record: ProcessRecord | undefined, graceMs: number): Promise<void>;
  /**
   * At adopt: removes what this runner started for the environment that no record names (a
   * node started by a deploy cut off before it recorded it). `keep` = every recorded node.
   */
  sweep?(environment: { id: string; dir: string }, keep: readonly ProcessRecord[]): Promise<void>;
}

/** The local driver's app nodes: the image unpacked once per digest, its command in the sandbox. */
export class SandboxAppRunner implements AppRunner {
  constructor(private readonly images: ImageCache) {}

  async start(input: AppNodeStart): Promise<ProcessRecord> {
    const image = await this.images.get(input.release.appImage);
    return (await startAppNode({ ...input, image })).record;
  }

  stop(record: ProcessRecord | undefined, graceMs: number): Promise<void> {
    return stopProcess(record, graceMs);
  }

  /**
   * Found by the environment's dir, which each node's outermost process carries (nodes.ts
   * ownerMarker; ids alone repeat across data dirs on one host). A stray never served (it was
   * never switched to): it is killed at once.
   */
  async sweep(environment: { id: string; dir: string }, keep: readonly ProcessRecord[]): Promise<void> {
    const kept = new Set(keep.map((r) => r.pid));
    for (const pid of markedProcesses(ownerMarker(environment.dir))) {
      if (kept.has(pid)) continue;
      await stopProcess({ pid, argv: [], cwd: '/', startedAt: '', ...withStartTicks(pid), sandbox: { cgroups: [] } }, 0);
    }
  }
}
