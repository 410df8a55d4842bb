import type { Queryable } from '../core/db.js';
import type { RefreshMode, RefreshReason, RefreshStrategy } from '../store/refresh-log.js';
import type { EngineStore } from '../store/engine-schema.js';

/**
 * Writes of `mv_refresh_log`, one function per statement. Timestamps go in as ISO text and
 * ids come back as float8, whatever the client's parsers (see core/pg-values.ts).
 */

/** Error message of attempts whose worker died mid-refresh. */
const WORKER_LOST = 'worker lost: its PostgreSQL session ended before the refresh finished';

export interface AttemptIdentity {
  view: string;
  reason: RefreshReason;
  triggerDetail: string | null;
  jobId: string | null;
  attempt: number;
  workerId: string | null;
  requestedAt: Date | null;
}

/**
 * Starts an attempt: inserts its `running` row (committed at once, so dashboards see it) and,
 * in the same statement, closes `running` rows of the same view left by dead workers. The
 * caller holds the view's fence, and only the fence holder can have a live attempt, so any
 * other `running` row belongs to a worker that died. `startedAt` is the refresh's `as_of`,
 * taken by the refresh transaction before its snapshot (see `beginRefresh`), so this insert
 * may run alongside the refresh.
 *
 * Committed without waiting for its WAL flush (`synchronous_commit = off` for this statement's
 * transaction only): the row is visible at once, and the refresh's own commit, which is
 * synchronous, flushes it too (WAL is sequential). A server crash before that loses the
 * row together with the refresh it describes. It saves a disk flush per refresh.
 */
export async function startAttempt(
  sql: Queryable, store: EngineStore,
  attempt: AttemptIdentity,
  backendPid: number,
  startedAt: Date,
): Promise<{ id: number; orphansClosed: number }> {
  const [row] = await sql<[{ id: number; orphans: number }]>`
    WITH orphans AS (
      UPDATE ${sql(store.refreshLog)}
      SET status = 'failed', finished_at = clock_timestamp(), error_message = ${WORKER_LOST}, backend_pid = NULL,
          duration_ms = round(extract(epoch FROM clock_timestamp() - started_at) * 1000)::int
      WHERE view_name = ${attempt.view} AND status = 'running'
      RETURNING id
    ), started AS (
      INSERT INTO ${sql(store.refreshLog)}
        (view_name, status, reason, trigger_detail, job_id, attempt, worker_id, requested_at, started_at, backend_pid)
      VALUES
        (${attempt.view}, 'running', ${attempt.reason}, ${attempt.triggerDetail}, ${attempt.jobId}, ${attempt.attempt},
         ${attempt.workerId}, ${attempt.requestedAt?.toISOString() ?? null}::timestamptz, ${startedAt.toISOString()}::timestamptz,
         ${backendPid})
      RETURNING id
    )
    SELECT started.id::float8 AS id, (SELECT count(*) FROM orphans)::int AS orphans,
           set_config('synchronous_commit', 'off', true)
    FROM started`;
  return { id: row.id, orphansClosed: row.orphans };
}

/** Records a skipped request (already covered by a refresh that started after it). */
export async function insertSkipped(sql: Queryable, store: EngineStore, attempt: AttemptIdentity, message: string): Promise<number> {
  const [row] = await sql<[{ id: number }]>`
    INSERT INTO ${sql(store.refreshLog)}
      (view_name, status, reason, trigger_detail, job_id, attempt, worker_id, requested_at,
       started_at, finished_at, duration_ms, error_message)
    VALUES
      (${attempt.view}, 'skipped', ${attempt.reason}, ${attempt.triggerDetail}, ${attempt.jobId}, ${attempt.attempt},
       ${attempt.workerId}, ${attempt.requestedAt?.toISOString() ?? null}::timestamptz, clock_timestamp(), clock_timestamp(), 0,
       ${message})
    RETURNING id::float8 AS id`;
  return row.id;
}

/**
 * Records an attempt that failed before its `running` row was written (in the statement that
 * takes the fence, or on a connection that broke first), so every attempt has a row. The
 * times are PostgreSQL's clock less what the caller measured: `ranForMs` from the attempt's
 * start to its failure, `failedAgoMs` since the failure (the row may be written after waiting
 * for the database to answer again).
 */
export async function insertFailed(
  sql: Queryable, store: EngineStore,
  attempt: AttemptIdentity,
  failure: { mode: RefreshMode | null; message: string; sqlState: string | null; ranForMs: number; failedAgoMs: number },
): Promise<number> {
  const ranForMs = Math.max(0, Math.round(failure.ranForMs));
  const failedAgoMs = Math.max(0, Math.round(failure.failedAgoMs));
  const [row] = await sql<[{ id: number }]>`
    INSERT INTO ${sql(store.refreshLog)}
      (view_name, status, mode, reason, trigger_detail, job_id, attempt, worker_id, requested_at,
       started_at, finished_at, duration_ms, error_message, error_code)
    VALUES
      (${attempt.view}, 'failed', ${failure.mode}, ${attempt.reason}, ${attempt.triggerDetail}, ${attempt.jobId}, ${attempt.attempt},
       ${attempt.workerId}, ${attempt.requestedAt?.toISOString() ?? null}::timestamptz,
       clock_timestamp() - make_interval(secs => ${(failedAgoMs + ranForMs) / 1000}::float8),
       clock_timestamp() - make_interval(secs => ${failedAgoMs / 1000}::float8),
       ${ranForMs}::int, ${failure.message}, ${failure.sqlState})
    RETURNING id::float8 AS id`;
  return row.id;
}

/**
 * Closes the attempt as successful. Runs inside the refresh transaction so that the view's
 * new contents and the `success` row commit together: a crash cannot leave one without the other.
 */
export async function markSuccess(
  tx: Queryable, store: EngineStore,
  id: number,
  result: {
    mode: RefreshMode;
    strategy: RefreshStrategy;
    keysRefreshed: number | null;
    rowsCorrected: number | null;
    startedAt: Date;
    lockWaitMs: number | null;
    rowsAfter: number;
  },
): Promise<void> {
  const startedAt = result.startedAt.toISOString();
  await tx`
    UPDATE ${tx(store.refreshLog)}
    SET status = 'success', mode = ${result.mode}, started_at = ${startedAt}::timestamptz,
        strategy = ${result.strategy}, keys_refreshed = ${result.keysRefreshed}, rows_corrected = ${result.rowsCorrected},
        finished_at = clock_timestamp(),
        duration_ms = round(extract(epoch FROM clock_timestamp() - ${startedAt}::timestamptz) * 1000)::int,
        lock_wait_ms = ${result.lockWaitMs}, rows_after = ${result.rowsAfter}, backend_pid = NULL
    WHERE id = ${id}`;
}

/**
 * Closes the attempt as failed, after its transaction rolled back. Another worker may have
 * taken the fence in between and closed the row as "worker lost"; the real cause wins.
 */
export async function markFailed(
  sql: Queryable, store: EngineStore,
  id: number,
  failure: { mode: RefreshMode | null; lockWaitMs: number | null; message: string; sqlState: string | null },
): Promise<void> {
  await sql`
    UPDATE ${sql(store.refreshLog)}
    SET status = 'failed', mode = ${failure.mode}, finished_at = clock_timestamp(),
        duration_ms = round(extract(epoch FROM clock_timestamp() - started_at) * 1000)::int,
        lock_wait_ms = ${failure.lockWaitMs}, error_message = ${failure.message},
        error_code = ${failure.sqlState}, backend_pid = NULL
    WHERE id = ${id} AND (status = 'running' OR (status = 'failed' AND error_message = ${WORKER_LOST}))`;
}

/**
 * Closes `running` rows of every view whose PostgreSQL backend is gone (the refresh
 * transaction died with it and was rolled back). A backend that started after the row is a
 * reused pid, not the refresh's session.
 */
export async function closeOrphans(sql: Queryable, store: EngineStore): Promise<number> {
  const rows = await sql`
    UPDATE ${sql(store.refreshLog)} l
    SET status = 'failed', finished_at = clock_timestamp(), error_message = ${WORKER_LOST}, backend_pid = NULL,
        duration_ms = round(extract(epoch FROM clock_timestamp() - l.started_at) * 1000)::int
    WHERE l.status = 'running'
      AND NOT EXISTS (
        SELECT 1 FROM pg_stat_activity a
        WHERE a.pid = l.backend_pid AND a.backend_start <= l.started_at
      )
    RETURNING l.id`;
  return rows.length;
}

/**
 * Deletes finished attempts older than `days`, a bounded batch per call (the sweep runs
 * often, so a large backlog drains over several sweeps without one long transaction).
 */
export async function pruneLog(sql: Queryable, store: EngineStore, days: number, batch = 5_000): Promise<number> {
  const rows = await sql`
    DELETE FROM ${sql(store.refreshLog)}
    WHERE id IN (
      SELECT id FROM ${sql(store.refreshLog)}
      WHERE started_at < now() - make_interval(days => ${days}) AND status <> 'running'
      ORDER BY started_at
      LIMIT ${batch}
    )
    RETURNING id`;
  return rows.length;
}
