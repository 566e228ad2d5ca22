import { describe, expect, it } from 'vitest';
import {
  ENVIRONMENT_EVENTS, environmentTransition, unfinishedWork,
} from '../../src/domain/environment-lifecycle.ts';
import type { EnvironmentStatus } from '../../src/domain/model.ts';

const STATUSES: EnvironmentStatus[] = ['creating', 'ready', 'failed', 'deleting'];

// Every allowed move, written out; every other pair must be refused.
const ALLOWED: Record<string, EnvironmentStatus> = {
  'creating provisioned': 'ready',
  'creating provisionFailed': 'failed',
  'ready delete': 'deleting',
  'failed delete': 'deleting',
  'deleting deleteFailed': 'failed',
};

describe('environment lifecycle', () => {
  it('is total: each pair is the written-out move or a typed refusal', () => {
    for (const from of STATUSES) {
      for (const event of ENVIRONMENT_EVENTS) {
        const t = environmentTransition(from, event);
        const expected = ALLOWED[`${from} ${event}`];
        if (expected) expect(t).toEqual({ ok: true, to: expected });
        else expect(t).toMatchObject({ ok: false, code: 'INVALID_TRANSITION', from, event });
      }
    }
  });

  it('an environment still being made cannot be deleted, nor provisioned twice', () => {
    expect(environmentTransition('creating', 'delete').ok).toBe(false);
    expect(environmentTransition('ready', 'provisioned').ok).toBe(false);
  });

  it('start-up finishes exactly what a crash can leave half done', () => {
    expect(STATUSES.map(unfinishedWork)).toEqual(['provision', undefined, undefined, 'delete']);
  });
});
