import type { Queryable } from '../core/db.js';
import type { EngineStore } from '../store/engine-schema.js';

/**
 * Reads of `mv_refresh_totals`, the refresh log's running totals (engine migration 4, kept by
 * triggers on the log): a few rows per view, so a scrape costs the same at any log size.
 */

/** Finished attempts of one (view, status, reason, mode) whose duration fell in one histogram bucket. */
export interface RefreshLogBucketRow {
  view: string;
  status: string;
  reason: string;
  /** `none` for attempts that never chose a mode (skipped requests). */
  mode: string;
  /**
   * Index into REFRESH_DURATION_BUCKETS of the first bound the duration does not exceed
   * (the bounds' length for `+Inf`); null without a duration.
   */
  bucket: number | null;
  count: number;
  sum_ms: number;
}

/** Age of each view's data: start of its last successful refresh. */
export interface LastSuccessRow {
  view: string;
  age_seconds: number;
}

/** Every finished attempt, grouped by labels and duration bucket. */
export async function readRefreshLogBuckets(sql: Queryable, store: EngineStore): Promise<RefreshLogBucketRow[]> {
  return sql<RefreshLogBucketRow[]>`
    SELECT view_name AS view, status, reason, mode, nullif(bucket, -1)::int AS bucket,
           sum(attempts)::float8 AS count, sum(duration_ms)::float8 AS sum_ms
    FROM ${sql(store.refreshTotals)}
    GROUP BY 1, 2, 3, 4, 5`;
}

/** Seconds since the last successful refresh started, per view of `views` that has one, in `views` order. */
export async function readLastSuccessAges(sql: Queryable, store: EngineStore, views: readonly string[]): Promise<LastSuccessRow[]> {
  return sql<LastSuccessRow[]>`
    SELECT view_name AS view, extract(epoch FROM now() - max(last_started_at))::float8 AS age_seconds
    FROM ${sql(store.refreshTotals)}
    WHERE status = 'success' AND view_name = ANY(${views as string[]}::text[])
    GROUP BY 1
    ORDER BY array_position(${views as string[]}::text[], view_name)`;
}

/** Successful refreshes of one view with one strategy, with what they drained and corrected. */
export interface RefreshStrategyRow {
  view: string;
  /** `targeted` or `full`. */
  strategy: string;
  count: number;
  /** Sum of `keys_refreshed`: dirty keys these refreshes drained. */
  keys_refreshed: number;
  /** Sum of `rows_corrected`: rows full rebuilds of tables changed outside the announced keys. */
  rows_corrected: number;
}

/** Successful refreshes per view and strategy (successes logged without a strategy count as `full`). */
export async function readRefreshStrategyTotals(sql: Queryable, store: EngineStore): Promise<RefreshStrategyRow[]> {
  return sql<RefreshStrategyRow[]>`
    SELECT view_name AS view, strategy, sum(attempts)::float8 AS count,
           sum(keys_refreshed)::float8 AS keys_refreshed, sum(rows_corrected)::float8 AS rows_corrected
    FROM ${sql(store.refreshTotals)}
    WHERE status = 'success'
    GROUP BY 1, 2`;
}
