import type { Sql } from '../src/core/db.js';

/** What the refresh log says about a storm: the workers' refreshes per view, and each event's freshness lag. */

/** One (event, view) pair the storm sent. */
export interface Sent {
  view: string;
  /** Epoch milliseconds (sub-millisecond) right after the write committed. */
  committedAt: number;
  /**
   * A successful refresh of the view that started at or after this moment (epoch ms) shows
   * the event: the commit for a whole-view refresh; for a keyed view, the moment the event's
   * keys were committed to `mvfleet.mv_dirty_keys` (the refresh drains them, or an earlier one did).
   */
  coveredFrom: number;
}

/** Refresh-log totals of one view over the storm. */
export interface ViewLog {
  view: string;
  success: number;
  skipped: number;
  failed: number;
  targeted: number;
  keysRefreshed: number;
  durationMs: number;
  p50Ms: number;
  maxMs: number;
}

/** How the storm's lag is measured, for the scenarios' notes. */
export const LAG_NOTE =
  'Freshness lag: per event and view, finished_at of the first successful refresh that started after the event was covered ' +
  '(the write\'s commit; for a keyed view, the commit of its dirty keys), minus the write\'s commit (same machine clock). ' +
  'An earlier refresh may already have drained the key, so for keyed views this is an upper bound.';

/** The storm workers' refreshes since `since`, per view. */
export async function refreshLog(sql: Sql, since: Date, workerIds: string[]): Promise<ViewLog[]> {
  const rows = await sql<
    {
      view: string;
      success: number;
      skipped: number;
      failed: number;
      targeted: number;
      keys_refreshed: number;
      duration_ms: number;
      p50_ms: number | null;
      max_ms: number | null;
    }[]
  >`
    SELECT view_name AS view,
           count(*) FILTER (WHERE status = 'success')::int AS success,
           count(*) FILTER (WHERE status = 'skipped')::int AS skipped,
           count(*) FILTER (WHERE status = 'failed')::int AS failed,
           count(*) FILTER (WHERE status = 'success' AND strategy = 'targeted')::int AS targeted,
           coalesce(sum(keys_refreshed) FILTER (WHERE status = 'success'), 0)::int AS keys_refreshed,
           coalesce(sum(duration_ms) FILTER (WHERE status = 'success'), 0)::float8 AS duration_ms,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) FILTER (WHERE status = 'success') AS p50_ms,
           max(duration_ms) FILTER (WHERE status = 'success')::float8 AS max_ms
    FROM mvfleet.mv_refresh_log WHERE started_at >= ${since} AND worker_id = ANY(${workerIds})
    GROUP BY view_name ORDER BY view_name`;
  return rows.map((row) => ({
    view: row.view,
    success: row.success,
    skipped: row.skipped,
    failed: row.failed,
    targeted: row.targeted,
    keysRefreshed: row.keys_refreshed,
    durationMs: row.duration_ms,
    p50Ms: row.p50_ms ?? Number.NaN,
    maxMs: row.max_ms ?? Number.NaN,
  }));
}

/** Lag per event and view (see {@link LAG_NOTE}), computed in one query against the refresh log's success index. */
export async function freshnessLags(sql: Sql, sent: Sent[], label: string): Promise<Record<string, number[]>> {
  const rows = await sql<{ view: string; lag_ms: number | null }[]>`
    SELECT e.view, extract(epoch FROM (r.finished_at - to_timestamp(e.committed_ms / 1000))) * 1000 AS lag_ms
    FROM unnest(${sent.map((s) => s.view)}::text[], ${sent.map((s) => s.committedAt)}::float8[], ${sent.map((s) => s.coveredFrom)}::float8[])
      AS e(view, committed_ms, covered_ms)
    LEFT JOIN LATERAL (
      SELECT finished_at FROM mvfleet.mv_refresh_log
      WHERE view_name = e.view AND status = 'success' AND started_at >= to_timestamp(e.covered_ms / 1000)
      ORDER BY started_at LIMIT 1
    ) r ON true`;
  const lags: Record<string, number[]> = {};
  for (const row of rows) {
    if (row.lag_ms === null) throw new Error(`${label}: an event of ${row.view} has no covering refresh`);
    (lags[row.view] ??= []).push(Number(row.lag_ms));
  }
  return lags;
}
