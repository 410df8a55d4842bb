import { setTimeout as delay } from 'node:timers/promises';
import type { Queryable } from '../core/db.js';
import { MvfleetError } from '../core/errors.js';
import { toDate } from '../core/pg-values.js';
import type { EngineStore } from '../store/engine-schema.js';

/** How a wait for a refresh ended. */
export type RefreshWaitResult =
  | { status: 'success'; logId: number; startedAt: Date; durationMs: number | null; mode: string | null }
  | { status: 'failed'; logId: number; attempt: number; errorMessage: string | null; errorCode: string | null };

export class RefreshWaitTimeoutError extends MvfleetError {}

/** Options for {@link waitForRefresh}. */
export interface WaitForRefreshOptions {
  view: string;
  /**
   * The request time: only refreshes that started at or after it count, and only failures of
   * requests made at or after it (a failing scheduled refresh requested earlier is not ours).
   * Compared with `started_at` on the database's clock: use that clock, or hosts kept in sync.
   */
  requestedAt: Date;
  /** @defaultValue 60_000 */
  timeoutMs?: number;
  /**
   * Poll interval of the refresh log.
   * @defaultValue 100
   */
  pollMs?: number;
  signal?: AbortSignal;
}

/**
 * Waits until the refresh log shows an attempt of `view` that started at or after
 * `requestedAt` and finished: the first success satisfies the request; a failed attempt
 * is returned as such (its job may still be retried in the background).
 */
export async function waitForRefresh(sql: Queryable, store: EngineStore, options: WaitForRefreshOptions): Promise<RefreshWaitResult> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  const requestedAt = options.requestedAt.toISOString();
  for (;;) {
    const rows = await sql<
      {
        id: number;
        status: string;
        attempt: number;
        started_at: Date | string;
        duration_ms: number | null;
        mode: string | null;
        error_message: string | null;
        error_code: string | null;
      }[]
    >`
      SELECT id::float8 AS id, status, attempt, started_at, duration_ms, mode, error_message, error_code
      FROM ${sql(store.refreshLog)}
      WHERE view_name = ${options.view} AND started_at >= ${requestedAt}::timestamptz
        AND (status = 'success' OR (status = 'failed' AND requested_at >= ${requestedAt}::timestamptz))
      ORDER BY (status = 'success') DESC, started_at
      LIMIT 1`;
    const row = rows[0];
    if (row?.status === 'success') {
      return { status: 'success', logId: row.id, startedAt: toDate(row.started_at), durationMs: row.duration_ms, mode: row.mode };
    }
    if (row) {
      return { status: 'failed', logId: row.id, attempt: row.attempt, errorMessage: row.error_message, errorCode: row.error_code };
    }
    if (Date.now() >= deadline) {
      throw new RefreshWaitTimeoutError(`no refresh of ${options.view} finished within ${Math.round(timeoutMs / 1000)} s`);
    }
    await delay(options.pollMs ?? 100, undefined, { signal: options.signal });
  }
}

/** The database's clock: request times are compared with `started_at`, which PostgreSQL writes. */
export async function databaseNow(sql: Queryable): Promise<Date> {
  const [row] = await sql<[{ now: Date | string }]>`SELECT clock_timestamp() AS now`;
  return toDate(row.now);
}
