// One PostgreSQL cluster for the whole suite (each test file creates its own database in it).
import type { TestProject } from 'vitest/node';
import { startPostgres, type PostgresCluster } from './support/postgres.ts';

let cluster: PostgresCluster | undefined;

export default async function setup(project: TestProject): Promise<() => void> {
  cluster = await startPostgres();
  project.provide('pgAdminUrl', cluster.url);
  return () => cluster?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
  }
}
