import { describe, expect, it } from 'vitest';
import { effectiveBatchSize, planRollback, planRollingDeploy, sameAppRelease } from '../../src/domain/rolling-plan.ts';

describe('rolling plan', () => {
  it('cycles every pair and author, in order, whatever they run', () => {
    expect(planRollingDeploy({ pairCount: 4, pairsDone: [], authorDone: false, batchSize: 2, dispatcherOnly: false }))
      .toEqual({ deployAuthor: true, batchSize: 2, batches: [[0, 1], [2, 3]] });
  });

  it('resumes after what this deployment already completed', () => {
    expect(planRollingDeploy({ pairCount: 3, pairsDone: [0], authorDone: true, batchSize: 1, dispatcherOnly: false }))
      .toEqual({ deployAuthor: false, batchSize: 1, batches: [[1], [2]] });
    expect(planRollingDeploy({ pairCount: 3, pairsDone: [0, 1, 2], authorDone: true, batchSize: 1, dispatcherOnly: false }))
      .toEqual({ deployAuthor: false, batchSize: 1, batches: [] });
    // Out-of-range or repeated indexes in the record change nothing.
    expect(planRollingDeploy({ pairCount: 2, pairsDone: [1, 1, 7], authorDone: false, batchSize: 1, dispatcherOnly: false }))
      .toEqual({ deployAuthor: true, batchSize: 1, batches: [[0]] });
  });

  it('never puts every pair in one batch when there are two or more', () => {
    expect(effectiveBatchSize(5, 3)).toBe(2);
    expect(effectiveBatchSize(2, 2)).toBe(1);
    expect(effectiveBatchSize(3, 1)).toBe(1);
    expect(effectiveBatchSize(0, 4)).toBe(1);
    expect(effectiveBatchSize(Number.NaN, 4)).toBe(1);
    const plan = planRollingDeploy({ pairCount: 3, pairsDone: [], authorDone: false, batchSize: 10, dispatcherOnly: false });
    for (const batch of plan.batches) expect(batch.length).toBeLessThan(3);
  });

  it('leaves author alone for dispatcher-only deploys, and still cycles every pair', () => {
    expect(planRollingDeploy({ pairCount: 2, pairsDone: [], authorDone: false, batchSize: 1, dispatcherOnly: true }))
      .toEqual({ deployAuthor: false, batchSize: 1, batches: [[0], [1]] });
  });

  it('rolls back the changed pairs newest first, then author', () => {
    expect(planRollback({ changedPairs: [0, 1, 2, 3], authorChanged: true, batchSize: 2, pairCount: 5 }))
      .toEqual({ batches: [[3, 2], [1, 0]], rollbackAuthor: true });
    expect(planRollback({ changedPairs: [1, 1], authorChanged: false, batchSize: 1, pairCount: 3 }))
      .toEqual({ batches: [[1]], rollbackAuthor: false });
    expect(planRollback({ changedPairs: [], authorChanged: true, batchSize: 1, pairCount: 3 }))
      .toEqual({ batches: [], rollbackAuthor: true });
  });

  it('compares app releases by version, image and variables', () => {
    const a = { version: '1', appImage: 'sha256:a', variables: { X: '1', Y: '2' } };
    expect(sameAppRelease(a, { ...a, variables: { Y: '2', X: '1' } })).toBe(true);
    expect(sameAppRelease(a, { ...a, variables: { X: '1' } })).toBe(false);
    expect(sameAppRelease(a, { ...a, version: '2' })).toBe(false);
    expect(sameAppRelease(undefined, undefined)).toBe(true);
    expect(sameAppRelease(a, undefined)).toBe(false);
  });
});
