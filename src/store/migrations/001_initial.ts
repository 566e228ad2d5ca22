// The first schema. Identity columns differ between SQLite and PostgreSQL; the rest is shared.
import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../dialect.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations run on an untyped schema
export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const ms = dialect === 'postgres' ? 'bigint' : 'integer';
  const id = dialect === 'postgres' ? 'bigserial' : 'integer';
  const table = (name: string) =>
    db.schema.createTable(name).addColumn('id', id, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()));

  await table('programs')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', ms, (c) => c.notNull())
    .addColumn('updated_at', ms, (c) => c.notNull())
    .execute();

  await table('repositories')
    .addColumn('program_id', ms, (c) => c.notNull().references('programs.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('created_at', ms, (c) => c.notNull())
    .execute();

  await table('environments')
    .addColumn('program_id', ms, (c) => c.notNull().references('programs.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('region', 'text', (c) => c.notNull())
    .addColumn('settings', 'text', (c) => c.notNull())
    .addColumn('created_at', ms, (c) => c.notNull())
    .addColumn('updated_at', ms, (c) => c.notNull())
    .execute();

  await db.schema.createTable('variables')
    .addColumn('owner_kind', 'text', (c) => c.notNull())
    .addColumn('owner_id', ms, (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('service', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('variables_pk', ['owner_kind', 'owner_id', 'name', 'service'])
    .execute();

  await table('pipelines')
    .addColumn('program_id', ms, (c) => c.notNull().references('programs.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('trigger', 'text', (c) => c.notNull())
    .addColumn('repository_id', ms, (c) => c.notNull())
    .addColumn('branch', 'text', (c) => c.notNull())
    .addColumn('environments', 'text', (c) => c.notNull())
    .addColumn('options', 'text', (c) => c.notNull())
    .addColumn('last_commit', 'text')
    .addColumn('created_at', ms, (c) => c.notNull())
    .addColumn('updated_at', ms, (c) => c.notNull())
    .execute();

  await table('executions')
    .addColumn('program_id', ms, (c) => c.notNull())
    .addColumn('pipeline_id', ms, (c) => c.notNull().references('pipelines.id').onDelete('cascade'))
    .addColumn('pipeline_type', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('trigger', 'text', (c) => c.notNull())
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('user', 'text', (c) => c.notNull())
    .addColumn('artifacts_version', 'text')
    .addColumn('source_execution_id', ms)
    .addColumn('busy_pipeline_id', ms, (c) => c.unique())
    .addColumn('created_at', ms, (c) => c.notNull())
    .addColumn('updated_at', ms, (c) => c.notNull())
    .addColumn('finished_at', ms)
    .execute();
  await db.schema.createIndex('executions_by_pipeline').on('executions').columns(['pipeline_id', 'id']).execute();

  await table('steps')
    .addColumn('execution_id', ms, (c) => c.notNull().references('executions.id').onDelete('cascade'))
    .addColumn('idx', 'integer', (c) => c.notNull())
    .addColumn('phase', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('environment_type', 'text')
    .addColumn('environment_id', ms)
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('details', 'text', (c) => c.notNull())
    .addColumn('metrics', 'text', (c) => c.notNull())
    .addColumn('started_at', ms)
    .addColumn('finished_at', ms)
    .addColumn('updated_at', ms, (c) => c.notNull())
    .addColumn('wake_at', ms)
    .addColumn('pause_before_run', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('queued_at', ms)
    .addColumn('lease_owner', 'text')
    .addColumn('lease_expires_at', ms)
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('steps_by_execution').on('steps').columns(['execution_id', 'idx']).execute();
  // Partial indexes keep the claim and timer queries small however long the history grows.
  await sql`CREATE INDEX steps_queued ON steps (queued_at) WHERE queued_at IS NOT NULL`.execute(db);
  await sql`CREATE INDEX steps_waking ON steps (wake_at) WHERE wake_at IS NOT NULL`.execute(db);

  await db.schema.createTable('artifacts')
    .addColumn('digest', 'text', (c) => c.primaryKey())
    .addColumn('size', ms, (c) => c.notNull())
    .addColumn('media_type', 'text', (c) => c.notNull())
    .addColumn('created_at', ms, (c) => c.notNull())
    .execute();

  await db.schema.createTable('execution_artifacts')
    .addColumn('execution_id', ms, (c) => c.notNull().references('executions.id').onDelete('cascade'))
    .addColumn('step_id', ms, (c) => c.notNull())
    .addColumn('digest', 'text', (c) => c.notNull().references('artifacts.digest'))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('size', ms, (c) => c.notNull())
    .addPrimaryKeyConstraint('execution_artifacts_pk', ['execution_id', 'digest', 'name'])
    .execute();

  await table('users')
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('admin', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', ms, (c) => c.notNull())
    .execute();

  await db.schema.createTable('tokens')
    .addColumn('hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', ms, (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('created_at', ms, (c) => c.notNull())
    .execute();

  await db.schema.createTable('members')
    .addColumn('program_id', ms, (c) => c.notNull().references('programs.id').onDelete('cascade'))
    .addColumn('user_id', ms, (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('role', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('members_pk', ['program_id', 'user_id', 'role'])
    .execute();
}
