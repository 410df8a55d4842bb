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
 * Each view's window is one range of the `(view_name, started_at)` index, read per view
 * (LATERAL), so the cost follows the attempts inside the window, never the log's total size:
 * a join of all views against the log let the planner scan the whole log once the window
 * held a large share of it.
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
    SELECT v.view, w.successes, w.failures, w.skipped, w.avg_duration_ms, w.p95_duration_ms, w.max_duration_ms,
           (SELECT json_agg(f ORDER BY f.started_at DESC) FROM (
              SELECT started_at, error_message, error_code FROM ${sql(store.refreshLog)}
              WHERE view_name = v.view AND status = 'failed' AND started_at > now() - make_interval(days => ${days})
              ORDER BY started_at DESC LIMIT 5) f) AS recent_failures
    FROM unnest(${names}::text[]) AS v(view)
    CROSS JOIN LATERAL (
      SELECT count(*) FILTER (WHERE l.status = 'success')::int AS successes,
             count(*) FILTER (WHERE l.status = 'failed')::int AS failures,
             count(*) FILTER (WHERE l.status = 'skipped')::int AS skipped,
             (avg(l.duration_ms) FILTER (WHERE l.status = 'success'))::float8 AS avg_duration_ms,
             (percentile_cont(0.95) WITHIN GROUP (ORDER BY l.duration_ms) FILTER (WHERE l.status = 'success'))::float8
               AS p95_duration_ms,
             max(l.duration_ms) FILTER (WHERE l.status = 'success') AS max_duration_ms
      FROM ${sql(store.refreshLog)} l
      WHERE l.view_name = v.view AND l.started_at > now() - make_interval(days => ${days})
    ) w`;
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
