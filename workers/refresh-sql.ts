import type { Queryable } from '../core/db.js';
import { quoteIdent } from '../core/identifiers.js';
import type { RefreshMode } from '../schema/refresh-log.js';

/**
 * The SQL of one refresh, each statement in one place. View names reaching these functions
 * come from the catalog and are always quoted.
 */

/** Advisory-lock namespace of view fences ("mvfl"); the second key is `hashtext(view)`. */
const FENCE_NAMESPACE = 0x6d76666c;

export interface RefreshStart {
  /** Whether this transaction now holds the view's fence. */
  acquired: boolean;
  /** PostgreSQL backend of the refresh transaction (for cancellation and orphan detection). */
  pid: number;
  /** Start of the view's last successful refresh (read under the fence), or null. */
  coveredBy: Date | null;
  exists: boolean;
  populated: boolean;
  /** A valid, non-partial unique index on plain columns: what CONCURRENTLY requires. */
  hasUsableUniqueIndex: boolean;
}

/**
 * Opens a refresh in one round trip: takes the view's fence (held until the transaction
 * ends, so refreshes of one view never overlap), applies the view's timeouts to this
 * transaction, and reads what the refresh needs to decide (last success, populated, unique
 * index). The fence is taken in the FROM subquery first; the rest is read only if it was.
 *
 * client_connection_check_interval aborts a running REFRESH whose worker died (PostgreSQL 14+);
 * idle_in_transaction_session_timeout ends a refresh transaction whose host vanished between
 * statements (no FIN ever arrives), releasing the fence instead of holding it for hours.
 */
export async function beginRefresh(
  tx: Queryable,
  view: string,
  limits: { lockTimeoutMs: number; statementTimeoutMs: number },
): Promise<RefreshStart> {
  const [row] = await tx<
    [{ acquired: boolean; pid: number; covered_by: Date | null; exists: boolean; populated: boolean | null; has_unique: boolean }]
  >`
    SELECT f.acquired,
           pg_backend_pid() AS pid,
           CASE WHEN f.acquired THEN (
             SELECT started_at FROM mv_refresh_log
             WHERE view_name = ${view} AND status = 'success' ORDER BY started_at DESC LIMIT 1
           ) END AS covered_by,
           m.matviewname IS NOT NULL AS exists,
           m.ispopulated AS populated,
           EXISTS (
             SELECT 1 FROM pg_index ix
             WHERE ix.indrelid = to_regclass(${quoteIdent(view)})
               AND ix.indisunique AND ix.indisvalid AND ix.indpred IS NULL AND ix.indexprs IS NULL
           ) AS has_unique,
           set_config('lock_timeout', ${`${limits.lockTimeoutMs}ms`}, true),
           set_config('statement_timeout', ${`${limits.statementTimeoutMs}ms`}, true),
           set_config('client_connection_check_interval', '1s', true),
           set_config('idle_in_transaction_session_timeout', '60s', true)
    FROM (SELECT pg_try_advisory_xact_lock(${FENCE_NAMESPACE}, hashtext(${view})) AS acquired) f
    LEFT JOIN pg_matviews m ON m.matviewname = ${view} AND m.schemaname = current_schema()`;
  return {
    acquired: row.acquired,
    pid: row.pid,
    coveredBy: row.covered_by,
    exists: row.exists,
    populated: row.populated ?? false,
    hasUsableUniqueIndex: row.has_unique,
  };
}

export function refreshStatement(view: string, mode: RefreshMode): string {
  return `REFRESH MATERIALIZED VIEW ${mode === 'concurrent' ? 'CONCURRENTLY ' : ''}${quoteIdent(view)}`;
}

export async function countRows(tx: Queryable, view: string): Promise<number> {
  const [row] = await tx.unsafe<[{ count: number }]>(`SELECT count(*)::float8 AS count FROM ${quoteIdent(view)}`);
  return row.count;
}
