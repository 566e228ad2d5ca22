// The CLI's deploy progress line reads the deploy step's details as src/steps/deploy-details.ts
// writes them: Cloud Manager's string-encoded deployCommands and Slipway's `rollout` record.
import { describe, expect, it } from 'vitest';
import { deployProgress } from '../../src/cli/format.ts';

const at = '2026-01-01T00:00:00.000Z';

describe('deployProgress', () => {
  it('counts finished commands against the expected ones and names the latest', () => {
    const details = {
      deployCommands: JSON.stringify([{ id: 1, stepAction: 'deploy', instanceId: 'author' }, { id: 2, stepAction: 'drain', instanceId: 'dispatcher-1' }]),
      rollout: { version: '1.0.8', commands: [
        { node: 'author', action: 'deploy', status: 'RUNNING', at }, { node: 'author', action: 'deploy', status: 'FINISHED', at, message: '1.0.8' },
        { node: 'dispatcher-1', action: 'drain', status: 'RUNNING', at },
      ] },
    };
    expect(deployProgress({ action: 'deploy', environmentType: 'prod', details }))
      .toBe('deploy (prod): release 1.0.8, 1 of 2 expected commands finished; latest: dispatcher-1 drain RUNNING');
  });

  it('has nothing to say about other steps, or deploys without a record', () => {
    expect(deployProgress({ action: 'build', details: { rollout: { commands: [{ node: 'x', action: 'y', status: 'FINISHED' }] } } })).toBeUndefined();
    expect(deployProgress({ action: 'deploy', details: { deployCommands: [{ node: 'author' }] } })).toBeUndefined();
    expect(deployProgress({ action: 'deploy' })).toBeUndefined();
  });
});
