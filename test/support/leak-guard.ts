// Every test file must close what it opened: a Slipway left open keeps its engine claiming,
// its driver's nodes and its database connections alive into whatever runs next in this
// worker; an API server left open keeps its background jobs. The file fails instead.
import { afterAll, expect } from 'vitest';
import { liveInstances } from '../../src/live-instances.ts';

afterAll(() => {
  expect(liveInstances(), 'left open by this test file: close each in afterEach/afterAll (or a finally)').toEqual([]);
});
