import type { Catalog } from '../catalog/catalog.js';
import type { Queryable } from '../core/db.js';

/** Refresh statistics of one view over a window of days. */
export interface ViewRefreshStats {
  view: string;
  attempts: number;
  successes: number;
  failures: number;
  skipped: number;
  /** successes / (successes + failures); null without attempts. */
  success_rate: number | null;
  avg_duration_ms: number | null;
  p95_duration_ms: number | null;
  max_duration_ms: number | null;
  recent_failures: { started_at: string; error_message: string | null; error_code: string | null }[];
}

export interface RefreshStats {
  days: number;
  views: ViewRefreshStats[];
}

/**
 * Success rate, average and p95 duration, failures per view over the last `days` days.
 *
 * One range of the `started_at` index covers the window of every view at once; counts,
 * percentiles and the latest failures are all computed from that one pass. The cost follows
 * the attempts inside the window, never the log's total size (rows older than the window are
 * not read), and the route caps `days`.
 */
export async function readRefreshStats(sql: Queryable, catalog: Catalog, days: number): Promise<RefreshStats> {
  const { store } = catalog;
  const names = catalog.views.map((view) => view.name);
  const rows = await sql<
    {
      view: string;
      successes: number;
      failures: number;
      skipped: number;
      avg_duration_ms: number | null;
      p95_duration_ms: number | null;
      max_duration_ms: number | null;
      recent_failures: { started_at: string; error_message: string | null; error_code: string | null }[] | null;
    }[]
  >`
    WITH window_rows AS MATERIALIZED (
      SELECT view_name, status, duration_ms, started_at, error_message, error_code
      FROM ${sql(store.refreshLog)}
      WHERE started_at > now() - make_interval(days => ${days}) AND view_name = ANY(${names}::text[])
    ), per_view AS (
      SELECT view_name,
             count(*) FILTER (WHERE status = 'success')::int AS successes,
             count(*) FILTER (WHERE status = 'failed')::int AS failures,
             count(*) FILTER (WHERE status = 'skipped')::int AS skipped,
             (avg(duration_ms) FILTER (WHERE status = 'success'))::float8 AS avg_duration_ms,
             (percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) FILTER (WHERE status = 'success'))::float8 AS p95_duration_ms,
             max(duration_ms) FILTER (WHERE status = 'success') AS max_duration_ms
      FROM window_rows GROUP BY view_name
    ), latest_failures AS (
      SELECT view_name,
             json_agg(json_build_object('started_at', started_at, 'error_message', error_message, 'error_code', error_code)
                      ORDER BY started_at DESC) AS recent_failures
      FROM (
        SELECT *, row_number() OVER (PARTITION BY view_name ORDER BY started_at DESC) AS recency
        FROM window_rows WHERE status = 'failed'
      ) failed
      WHERE recency <= 5
      GROUP BY view_name
    )
    SELECT v.view, coalesce(p.successes, 0) AS successes, coalesce(p.failures, 0) AS failures, coalesce(p.skipped, 0) AS skipped,
           p.avg_duration_ms, p.p95_duration_ms, p.max_duration_ms, f.recent_failures
    FROM unnest(${names}::text[]) AS v(view)
    LEFT JOIN per_view p ON p.view_name = v.view
    LEFT JOIN latest_failures f ON f.view_name = v.view`;
  const byName = new Map(rows.map((row) => [row.view, row]));
  return {
    days,
    views: names.map((name) => {
      const row = byName.get(name)!;
      const decided = row.successes + row.failures;
      return {
        view: name,
        attempts: decided + row.skipped,
        successes: row.successes,
        failures: row.failures,
        skipped: row.skipped,
        success_rate: decided > 0 ? row.successes / decided : null,
        avg_duration_ms: row.avg_duration_ms === null ? null : Math.round(row.avg_duration_ms),
        p95_duration_ms: row.p95_duration_ms === null ? null : Math.round(row.p95_duration_ms),
        max_duration_ms: row.max_duration_ms,
        // json_agg writes PostgreSQL's timestamp format; the API speaks ISO 8601 like everywhere else.
        recent_failures: (row.recent_failures ?? []).map((f) => ({ ...f, started_at: new Date(f.started_at).toISOString() })),
      };
    }),
  };
}
