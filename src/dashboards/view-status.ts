import type { Catalog, CatalogView } from '../catalog/catalog.js';
import type { Queryable } from '../core/db.js';
import { toDate } from '../core/pg-values.js';
import { formatAge } from './format.js';

/** One view's health: the `mvfleet status --json` / `GET /api/views` contract (design.md). */
export interface ViewStatus {
  view: string;
  populated: boolean;
  /** Rows after the last successful refresh; null if never refreshed. */
  rows: number | null;
  size_bytes: number | null;
  /** End of the last successful refresh. */
  last_refresh_at: string | null;
  /** Start of the last successful refresh: the snapshot the data reflects. */
  as_of: string | null;
  age_seconds: number | null;
  /** Status of the latest attempt (`running`, `success`, `failed`), skipped requests aside. */
  last_status: string | null;
  /** Mode of the last successful refresh. */
  mode: string | null;
  /** `materialized` (a PostgreSQL MV) or `table` (a keyed view maintained by targeted refreshes). */
  storage: string;
  /** Strategy of the last successful refresh: `targeted` or `full`. */
  strategy: string | null;
  /** Keyed views: dirty keys the last successful refresh drained. */
  keys_refreshed: number | null;
  /** Keyed views: keys events touched that wait for a refresh. */
  pending_keys: number | null;
  /** Whole-view requests (events, capture, manual, cascade) waiting for a refresh; schedule ticks aside. */
  pending_requests: number;
  /**
   * Age of the oldest change recorded and not yet refreshed (a pending key or whole-view
   * request, schedule ticks aside): how stale the view truly is, what a freshness alert
   * should fire on. Null when nothing waits.
   */
  oldest_pending_seconds: number | null;
  /** Source tables whose writes triggers capture for this view. */
  capture: string[];
  /** Table-stored views: rows the last full rebuild corrected outside announced keys (drift). */
  rows_corrected: number | null;
  next_run_at: string | null;
  stale: boolean;
  fresh_for_minutes: number;
  last_duration_ms: number | null;
  p95_duration_ms: number | null;
  refreshes_24h: number;
  consecutive_failures: number;
  success_rate_7d: number | null;
  last_error: string | null;
  alerts: string[];
}

interface StatusRow {
  view: string;
  populated: boolean | null;
  size_bytes: string | null;
  as_of: Date | string | null;
  last_refresh_at: Date | string | null;
  rows: string | null;
  mode: string | null;
  strategy: string | null;
  keys_refreshed: number | null;
  pending_keys: number;
  pending_requests: number;
  oldest_pending_seconds: number | null;
  rows_corrected: string | null;
  last_duration_ms: number | null;
  last_status: string | null;
  last_error: string | null;
  consecutive_failures: number;
  refreshes_24h: number;
  success_7d: number;
  failed_7d: number;
  p95_duration_ms: number | null;
  now: Date | string;
}

/** Options for {@link readViewStatuses}. */
export interface ViewStatusOptions {
  /** Next scheduled run per view (from the scheduler); absent views get `null`. */
  nextRuns?: ReadonlyMap<string, Date>;
}

/** Reads the status of every catalog view: one query, indexed lookups in the refresh log. */
export async function readViewStatuses(sql: Queryable, catalog: Catalog, options: ViewStatusOptions = {}): Promise<ViewStatus[]> {
  const { store } = catalog;
  const names = catalog.views.map((view) => view.name);
  const fingerprints = catalog.views.map((view) => view.fingerprint);
  const rows = await sql<StatusRow[]>`
    SELECT v.view,
           CASE c.relkind
             WHEN 'm' THEN c.relispopulated
             WHEN 'r' THEN EXISTS (SELECT 1 FROM ${sql(store.tableState)} t
                                   WHERE t.view_name = v.view AND t.relid = c.oid::bigint AND t.definition_md5 = v.fingerprint)
           END AS populated,
           pg_total_relation_size(to_regclass(quote_ident(v.view)))::text AS size_bytes,
           s.started_at AS as_of, s.finished_at AS last_refresh_at, s.rows_after::text AS rows, s.mode,
           s.strategy, s.keys_refreshed, r.rows_corrected::text AS rows_corrected,
           (SELECT count(DISTINCT d.key)::int FROM ${sql(store.dirtyKeys)} d WHERE d.view_name = v.view) AS pending_keys,
           (SELECT count(*)::int FROM ${sql(store.pendingRequests)} p WHERE p.view_name = v.view AND p.reason <> 'schedule') AS pending_requests,
           extract(epoch FROM now() - LEAST(
             (SELECT min(d.recorded_at) FROM ${sql(store.dirtyKeys)} d WHERE d.view_name = v.view),
             (SELECT min(p.requested_at) FROM ${sql(store.pendingRequests)} p WHERE p.view_name = v.view AND p.reason <> 'schedule')
           ))::float8 AS oldest_pending_seconds,
           s.duration_ms AS last_duration_ms,
           a.status AS last_status, a.error_message AS last_error,
           (SELECT count(*)::int FROM ${sql(store.refreshLog)} f
             WHERE f.view_name = v.view AND f.status = 'failed'
               AND f.started_at > COALESCE(s.started_at, '-infinity')) AS consecutive_failures,
           w.refreshes_24h, w.success_7d, w.failed_7d, w.p95_duration_ms,
           now() AS now
    FROM unnest(${names}::text[], ${fingerprints}::text[]) AS v(view, fingerprint)
    LEFT JOIN pg_class c ON c.oid = to_regclass(quote_ident(v.view)) AND c.relkind IN ('m', 'r')
    LEFT JOIN LATERAL (
      SELECT started_at, finished_at, rows_after, mode, duration_ms, strategy, keys_refreshed FROM ${sql(store.refreshLog)}
      WHERE view_name = v.view AND status = 'success' ORDER BY started_at DESC LIMIT 1
    ) s ON true
    LEFT JOIN LATERAL (
      SELECT rows_corrected FROM ${sql(store.refreshLog)}
      WHERE view_name = v.view AND status = 'success' AND strategy = 'full' ORDER BY started_at DESC LIMIT 1
    ) r ON true
    LEFT JOIN LATERAL (
      SELECT status, error_message FROM ${sql(store.refreshLog)}
      WHERE view_name = v.view AND status <> 'skipped' ORDER BY started_at DESC, id DESC LIMIT 1
    ) a ON true
    LEFT JOIN LATERAL (
      SELECT count(*) FILTER (WHERE status = 'success' AND started_at > now() - interval '24 hours')::int AS refreshes_24h,
             count(*) FILTER (WHERE status = 'success')::int AS success_7d,
             count(*) FILTER (WHERE status = 'failed')::int AS failed_7d,
             (percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) FILTER (WHERE status = 'success'))::float8
               AS p95_duration_ms
      FROM ${sql(store.refreshLog)}
      WHERE view_name = v.view AND started_at > now() - interval '7 days'
    ) w ON true`;
  const byName = new Map(rows.map((row) => [row.view, row]));
  return catalog.views.map((view) => toStatus(view, byName.get(view.name)!, options.nextRuns?.get(view.name) ?? null));
}

function toStatus(view: CatalogView, row: StatusRow, nextRun: Date | null): ViewStatus {
  const asOf = toDate(row.as_of);
  const ageSeconds = asOf ? Math.max(0, Math.round((toDate(row.now).getTime() - asOf.getTime()) / 1000)) : null;
  const populated = row.populated ?? false;
  const stale = !populated || ageSeconds === null || ageSeconds > view.freshForMinutes * 60;
  const attempts = row.success_7d + row.failed_7d;
  const successRate = attempts > 0 ? row.success_7d / attempts : null;
  const alerts: string[] = [];
  if (row.populated === null) alerts.push('missing: run mvfleet migrate');
  else if (!populated) alerts.push('not populated yet');
  if (ageSeconds === null) alerts.push('never refreshed');
  else if (ageSeconds > view.freshForMinutes * 60) {
    alerts.push(`stale: ${formatAge(ageSeconds)} old (fresh for ${formatAge(view.freshForMinutes * 60)})`);
  }
  if (row.consecutive_failures >= view.alerts.consecutiveFailures) {
    alerts.push(`${row.consecutive_failures} consecutive failures`);
  }
  const corrected = row.rows_corrected === null ? 0 : Number(row.rows_corrected);
  if (corrected > 0) alerts.push(`last full rebuild corrected ${corrected} rows no event announced`);
  if (row.last_duration_ms !== null && row.last_duration_ms > view.alerts.slowRefreshMs) {
    alerts.push(`slow: last refresh took ${formatAge(row.last_duration_ms / 1000)} (limit ${formatAge(view.alerts.slowRefreshMs / 1000)})`);
  }
  if (successRate !== null && successRate < view.alerts.minSuccessRate) {
    alerts.push(`success rate ${(successRate * 100).toFixed(1)}% over 7 days (< ${view.alerts.minSuccessRate * 100}%)`);
  }
  return {
    view: view.name,
    populated,
    rows: row.rows === null ? null : Number(row.rows),
    size_bytes: row.size_bytes === null ? null : Number(row.size_bytes),
    last_refresh_at: toDate(row.last_refresh_at)?.toISOString() ?? null,
    as_of: asOf?.toISOString() ?? null,
    age_seconds: ageSeconds,
    last_status: row.last_status,
    mode: row.mode,
    storage: view.storage,
    strategy: row.strategy,
    keys_refreshed: row.keys_refreshed,
    pending_keys: view.keyed ? row.pending_keys : null,
    pending_requests: row.pending_requests,
    oldest_pending_seconds: row.oldest_pending_seconds === null ? null : Math.max(0, Math.round(row.oldest_pending_seconds)),
    capture: view.capture.map((source) => source.table),
    rows_corrected: view.storage === 'table' && row.rows_corrected !== null ? corrected : null,
    next_run_at: nextRun?.toISOString() ?? null,
    stale,
    fresh_for_minutes: view.freshForMinutes,
    last_duration_ms: row.last_duration_ms,
    p95_duration_ms: row.p95_duration_ms === null ? null : Math.round(row.p95_duration_ms),
    refreshes_24h: row.refreshes_24h,
    consecutive_failures: row.consecutive_failures,
    success_rate_7d: successRate,
    last_error: row.last_status === 'failed' ? row.last_error : null,
    alerts,
  };
}
