// One PostgreSQL cluster for the whole suite (each test file creates its own database in it),
// and the test base image of test containers, built and loaded before any test needs it.
import type { TestProject } from 'vitest/node';
import { startPostgres, type PostgresCluster } from './support/postgres.ts';
import { warmTestBase } from './support/test-base.ts';

let cluster: PostgresCluster | undefined;

export default async function setup(project: TestProject): Promise<() => void> {
  await warmTestBase();
  cluster = await startPostgres();
  project.provide('pgAdminUrl', cluster.url);
  return () => cluster?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
  }
}
