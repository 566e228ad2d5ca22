// The pure ordering of a rolling deployment (docs/design.md §1): which pairs go through the cycle,
// in which batches, and in which order a failed roll is undone. No I/O; the topology driver
// executes it. Every deployment cycles every pair (and redeploys author), the release a pair
// already runs included: the dispatcher cache is wiped and warmed on each deployment. Only
// what THIS deployment already completed (its own progress record, kept by the deploy step,
// so a deploy cut off by a crash resumes where it stopped) is left out.

/** The part of a release that identifies what an app node runs. */
export interface AppReleaseKey {
  version: string;
  appImage: string;
  variables: Record<string, string>;
}

export interface RollingPlanInput {
  pairCount: number;
  /** Pairs (0-based) this deployment already took through the whole cycle (a resumed deploy). */
  pairsDone: readonly number[];
  /** This deployment already redeployed author (a resumed deploy). */
  authorDone: boolean;
  /** Requested pairs per batch (pipeline option). */
  batchSize: number;
  /** webTier: only the dispatcher package changes, author is left alone. */
  dispatcherOnly: boolean;
}

export interface RollingPlan {
  deployAuthor: boolean;
  /** Batch size actually used (see effectiveBatchSize). */
  batchSize: number;
  /** Pair indexes (0-based) per batch, in order; pairs this deployment already did are left out. */
  batches: number[][];
}

export interface RollbackInput {
  /** Pairs touched by the failed roll, in the order they were changed (the failed batch last). */
  changedPairs: readonly number[];
  authorChanged: boolean;
  batchSize: number;
  pairCount: number;
}

export interface RollbackPlan {
  /** Most recently changed pairs first, so the pairs that served longest on the old release stay. */
  batches: number[][];
  rollbackAuthor: boolean;
}

/**
 * With two pairs or more a batch never holds every pair, so the load balancer always keeps
 * a member in service; with a single pair there is nothing to keep.
 */
export function effectiveBatchSize(requested: number, pairCount: number): number {
  const wanted = Number.isFinite(requested) && requested >= 1 ? Math.floor(requested) : 1;
  return pairCount >= 2 ? Math.min(wanted, pairCount - 1) : 1;
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export function planRollingDeploy(input: RollingPlanInput): RollingPlan {
  const size = effectiveBatchSize(input.batchSize, input.pairCount);
  const done = new Set(input.pairsDone);
  const pending: number[] = [];
  for (let i = 0; i < input.pairCount; i++) if (!done.has(i)) pending.push(i);
  return {
    deployAuthor: !input.dispatcherOnly && !input.authorDone,
    batchSize: size,
    batches: chunk(pending, size),
  };
}

export function planRollback(input: RollbackInput): RollbackPlan {
  const seen = new Set<number>();
  const newestFirst: number[] = [];
  for (const pair of [...input.changedPairs].reverse()) {
    if (!seen.has(pair)) { seen.add(pair); newestFirst.push(pair); }
  }
  return {
    batches: chunk(newestFirst, effectiveBatchSize(input.batchSize, input.pairCount)),
    rollbackAuthor: input.authorChanged,
  };
}

/** Two app releases are the same when version, image and variables all match. */
export function sameAppRelease(a: AppReleaseKey | undefined, b: AppReleaseKey | undefined): boolean {
  if (!a || !b) return a === b;
  return a.version === b.version && a.appImage === b.appImage
    && canonicalVariables(a.variables) === canonicalVariables(b.variables);
}

function canonicalVariables(vars: Record<string, string>): string {
  return JSON.stringify(Object.keys(vars).sort().map((k) => [k, vars[k]]));
}
