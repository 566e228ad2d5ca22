// Events reach every process: on PostgreSQL, a process without an engine (an API server)
// sees the step events that an engine in another Slipway instance commits.
import { describe, expect, it } from 'vitest';
import { startExecution } from '../../src/engine/commands.ts';
import type { SlipwayEvent } from '../../src/events/bus.ts';
import { testHandlers } from '../support/engine-handlers.ts';
import { seedPipeline } from '../support/seed.ts';
import { eventually, testStore } from '../support/slipway.ts';

describe('events across processes (PostgreSQL)', () => {
  it('an API-only instance hears what another instance\'s engine does', async () => {
    const store = await testStore('postgres');
    const api = await store.open({ runEngine: false });
    const worker = await store.open({ handlers: testHandlers() });
    try {
      const heard: SlipwayEvent[] = [];
      api.rt.bus.subscribe((e) => heard.push(e));
      const pipeline = await seedPipeline(api, { options: { approval: true } });
      const execution = await startExecution(api.rt, pipeline, { user: 'ada' });
      await eventually(async () => heard.some((e) => e.type === 'step.waiting'));
      const mine = heard.filter((e) => e.executionId === execution.id);
      expect(mine.filter((e) => e.type === 'execution.started')).toHaveLength(1);
      expect(mine.some((e) => e.type === 'step.ended' && e.action === 'build')).toBe(true);
      expect(mine.find((e) => e.type === 'step.waiting')).toMatchObject({ action: 'approval', status: 'WAITING' });
    } finally {
      await worker.close();
      await api.close();
      store.cleanup();
    }
  });
});
