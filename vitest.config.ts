import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Tests start real servers (PostgreSQL, HAProxy, Varnish, Chromium); two cores, two workers.
    pool: 'forks',
    maxWorkers: 2,
    globalSetup: ['test/global-setup.ts'],
    // Fails a test file that leaves a Slipway (engine, driver, database) or an API server open.
    setupFiles: ['test/support/leak-guard.ts'],
  },
});
