import type { Queryable } from '../core/db.js';
import type { EngineStore } from '../store/engine-schema.js';

/** Finished attempts of one (view, status, reason, mode) whose duration fell in one histogram bucket. */
export interface RefreshLogBucketRow {
  view: string;
  status: string;
  reason: string;
  /** `none` for attempts that never chose a mode (skipped requests). */
  mode: string;
  /**
   * How many bucket bounds lie strictly below the duration: the duration belongs to bucket
   * `bounds[bucket]` (or `+Inf` when it equals `bounds.length`); null without a duration.
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

/**
 * Counts every finished attempt in the refresh log, grouped by labels and duration bucket.
 * `width_bucket(d, thresholds)` counts thresholds <= d; with integer milliseconds and
 * thresholds `bound + 1` that is the number of bounds < d, i.e. Prometheus's `le` (d <= bound).
 */
export async function readRefreshLogBuckets(sql: Queryable, store: EngineStore, boundsMs: readonly number[]): Promise<RefreshLogBucketRow[]> {
  const thresholds = boundsMs.map((bound) => Math.floor(bound) + 1);
  return sql<RefreshLogBucketRow[]>`
    SELECT view_name AS view, status, reason, coalesce(mode, 'none') AS mode,
           width_bucket(duration_ms, ${thresholds}::int[]) AS bucket,
           count(*)::int AS count,
           coalesce(sum(duration_ms), 0)::float8 AS sum_ms
    FROM ${sql(store.refreshLog)}
    WHERE status <> 'running'
    GROUP BY 1, 2, 3, 4, 5`;
}

/** Seconds since the last successful refresh started, per view that has one. */
export async function readLastSuccessAges(sql: Queryable, store: EngineStore, views: readonly string[]): Promise<LastSuccessRow[]> {
  return sql<LastSuccessRow[]>`
    SELECT v.view, extract(epoch FROM now() - s.started_at)::float8 AS age_seconds
    FROM unnest(${views as string[]}::text[]) AS v(view)
    JOIN LATERAL (
      SELECT started_at FROM ${sql(store.refreshLog)}
      WHERE view_name = v.view AND status = 'success' ORDER BY started_at DESC LIMIT 1
    ) s ON true`;
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

/**
 * Successful refreshes per view and strategy. Successes logged before the log recorded a
 * strategy were all REFRESH MATERIALIZED VIEW runs, so a missing strategy counts as `full`.
 */
export async function readRefreshStrategyTotals(sql: Queryable, store: EngineStore): Promise<RefreshStrategyRow[]> {
  return sql<RefreshStrategyRow[]>`
    SELECT view_name AS view, coalesce(strategy, 'full') AS strategy, count(*)::int AS count,
           coalesce(sum(keys_refreshed), 0)::float8 AS keys_refreshed,
           coalesce(sum(rows_corrected) FILTER (WHERE strategy = 'full'), 0)::float8 AS rows_corrected
    FROM ${sql(store.refreshLog)}
    WHERE status = 'success'
    GROUP BY 1, 2`;
}
