// Claims made cheap as the queue grows and as engines are added.
// - steps_leased: the steps that hold a lease now, few (at most the engines' slots) however
//   many are queued; a claim counts each program's leases over it (fair sharing).
// - PostgreSQL: slipway_claim, a claim in one round trip. It takes the claim lock (claims
//   serialise, so each program's lease count is exact) and claims, inside one statement: the
//   lock is held for microseconds, not across the client's round trips, so engines queue on it
//   less (and never behind a descheduled process between two of its statements).
import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../dialect.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations run on an untyped schema
export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  await sql`CREATE INDEX steps_leased ON steps (lease_expires_at) WHERE queued_at IS NOT NULL AND lease_owner IS NOT NULL`.execute(db);
  if (dialect !== 'postgres') return;
  // Each statement of a volatile function reads a snapshot taken when it starts: the claim
  // sees every claim committed before the lock was granted.
  await sql.raw(`
    CREATE FUNCTION slipway_claim(worker text, now_ms bigint, lease_until bigint, quota bigint)
    RETURNS TABLE (step json, previous_owner text) LANGUAGE plpgsql VOLATILE AS $$
    BEGIN
      PERFORM pg_advisory_xact_lock(7274930);
      RETURN QUERY
        WITH held AS (
          SELECT he.program_id, count(*) AS n FROM steps h JOIN executions he ON he.id = h.execution_id
          WHERE h.queued_at IS NOT NULL AND h.lease_owner IS NOT NULL AND h.lease_expires_at >= now_ms
          GROUP BY he.program_id
        ), candidate AS (
          SELECT s.id, s.lease_owner FROM steps s JOIN executions e ON e.id = s.execution_id
          LEFT JOIN held ON held.program_id = e.program_id
          WHERE s.queued_at IS NOT NULL AND (s.lease_expires_at IS NULL OR s.lease_expires_at < now_ms)
            AND coalesce(held.n, 0) < quota
          ORDER BY s.queued_at LIMIT 1 FOR UPDATE OF s SKIP LOCKED
        )
        UPDATE steps SET lease_owner = worker, lease_expires_at = lease_until, attempts = steps.attempts + 1
        FROM candidate WHERE steps.id = candidate.id
        RETURNING row_to_json(steps.*), candidate.lease_owner;
    END $$`).execute(db);
}
