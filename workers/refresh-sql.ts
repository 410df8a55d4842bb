import type { Queryable } from '../core/db.js';
import { quoteIdent } from '../core/identifiers.js';
import type { RefreshMode } from '../schema/refresh-log.js';

/**
 * The SQL of one refresh, each statement in one place. View names reaching these functions
 * come from the catalog and are always quoted.
 */

/** Advisory-lock namespace of view fences ("mvfl"); the second key is `hashtext(view)`. */
const FENCE_NAMESPACE = 0x6d76666c;

/** The fence: held for the whole refresh transaction, so refreshes of one view never overlap. */
export async function tryAcquireFence(tx: Queryable, view: string): Promise<boolean> {
  const [row] = await tx<[{ acquired: boolean }]>`
    SELECT pg_try_advisory_xact_lock(${FENCE_NAMESPACE}, hashtext(${view})) AS acquired`;
  return row.acquired;
}

/** Applies the view's timeouts to the current transaction only. */
export async function setRefreshTimeouts(tx: Queryable, limits: { lockTimeoutMs: number; statementTimeoutMs: number }) {
  // client_connection_check_interval aborts a running REFRESH whose worker died (PostgreSQL 14+);
  // idle_in_transaction_session_timeout ends a refresh transaction whose host vanished between
  // statements (no FIN ever arrives), releasing the fence instead of holding it for hours.
  await tx`
    SELECT set_config('lock_timeout', ${`${limits.lockTimeoutMs}ms`}, true),
           set_config('statement_timeout', ${`${limits.statementTimeoutMs}ms`}, true),
           set_config('client_connection_check_interval', '1s', true),
           set_config('idle_in_transaction_session_timeout', '60s', true)`;
}

export interface ViewState {
  exists: boolean;
  populated: boolean;
  /** A valid, non-partial unique index on plain columns: what CONCURRENTLY requires. */
  hasUsableUniqueIndex: boolean;
}

export async function readViewState(tx: Queryable, view: string): Promise<ViewState> {
  const rows = await tx<{ populated: boolean; has_unique: boolean }[]>`
    SELECT m.ispopulated AS populated,
           EXISTS (
             SELECT 1 FROM pg_index ix
             WHERE ix.indrelid = to_regclass(${quoteIdent(view)})
               AND ix.indisunique AND ix.indisvalid AND ix.indpred IS NULL AND ix.indexprs IS NULL
           ) AS has_unique
    FROM pg_matviews m
    WHERE m.matviewname = ${view} AND m.schemaname = current_schema()`;
  const row = rows[0];
  return row
    ? { exists: true, populated: row.populated, hasUsableUniqueIndex: row.has_unique }
    : { exists: false, populated: false, hasUsableUniqueIndex: false };
}

export function refreshStatement(view: string, mode: RefreshMode): string {
  return `REFRESH MATERIALIZED VIEW ${mode === 'concurrent' ? 'CONCURRENTLY ' : ''}${quoteIdent(view)}`;
}

export async function countRows(tx: Queryable, view: string): Promise<number> {
  const [row] = await tx.unsafe<[{ count: number }]>(`SELECT count(*)::float8 AS count FROM ${quoteIdent(view)}`);
  return row.count;
}

/** `clock_timestamp()`: real time inside a transaction (`now()` is frozen at its start). */
export async function clockTimestamp(tx: Queryable): Promise<Date> {
  const [row] = await tx<[{ at: Date }]>`SELECT clock_timestamp() AS at`;
  return row.at;
}
