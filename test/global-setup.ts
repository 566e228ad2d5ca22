// One PostgreSQL cluster for the whole suite (each test file creates its own database in it),
// and the base images every buildImage step and test container needs, built once per machine
// before any test runs (minutes on a fresh machine; a test waiting for one would hit its
// timeout); the test base is also loaded into podman.
import type { TestProject } from 'vitest/node';
import { prepareBaseImage } from '../src/artifacts/base-image.ts';
import { startPostgres, type PostgresCluster } from './support/postgres.ts';
import { warmTestBase } from './support/test-base.ts';

let cluster: PostgresCluster | undefined;

export default async function setup(project: TestProject): Promise<() => void> {
  const log = (line: string): void => console.log(`global setup: ${line}`);
  await prepareBaseImage('node', { log });
  await prepareBaseImage('dispatcher', { log });
  await warmTestBase(log);
  cluster = await startPostgres();
  project.provide('pgAdminUrl', cluster.url);
  return () => cluster?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
  }
}
