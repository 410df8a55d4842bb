import type { Queryable } from '../core/db.js';
import { quoteIdent } from '../core/identifiers.js';
import { toDate } from '../core/pg-values.js';
import type { RefreshMode } from '../store/refresh-log.js';
import type { EngineStore } from '../store/engine-schema.js';
import { VIEW_FENCE_NAMESPACE } from '../store/view-fence.js';

/**
 * The SQL of one refresh, each statement in one place. View names reaching these functions
 * come from the catalog and are always quoted.
 */

export interface RefreshStart {
  /** Whether this transaction now holds the view's fence. */
  acquired: boolean;
  /** PostgreSQL backend of the refresh transaction (for cancellation and orphan detection). */
  pid: number;
  /**
   * When this statement started: before the refresh takes its snapshot or drains its keys, so
   * it is the refresh's `as_of` (`started_at`), never claiming more than the view holds.
   */
  startedAt: Date;
  /** Start of the view's last successful refresh that covers a request of this scope, or null. */
  coveredBy: Date | null;
  /** The request is already covered (see {@link beginRefresh}): nothing was drained, nothing to do. */
  skip: boolean;
  /** The dirty keys drained by this transaction (distinct JSON tuples, unchecked). */
  drainedKeys: unknown[];
  /**
   * Ids of the whole-view requests this refresh covers (deleted from the pending requests):
   * a final failure ends exactly these (see `dropDrainedRequests`).
   */
  drainedRequestIds: number[];
  /** Rows after the view's last successful refresh, or null. */
  lastRows: number | null;
  /** How the view is stored now, or null when it does not exist. */
  storage: 'materialized' | 'table' | null;
  exists: boolean;
  /** An MV that was refreshed, or a table that holds a complete build (`mv_table_state`). */
  populated: boolean;
  /** A valid, non-partial unique index on plain columns: what CONCURRENTLY requires. */
  hasUsableUniqueIndex: boolean;
}

/** What the request asks of {@link beginRefresh}. */
export interface RefreshAsk {
  scope: 'view' | 'keys';
  /** The request is covered by a refresh that started at or after this (its time plus clock-skew margin); null: never. */
  coveredAfter: Date | null;
  /** Drain the view's dirty keys (keyed views). */
  drain: boolean;
}

/**
 * Opens a refresh in one round trip: takes the view's fence (held until the transaction
 * ends, so refreshes of one view never overlap), applies the view's timeouts to this
 * transaction, reads what the refresh needs to decide (last success, populated, unique
 * index), decides whether the request is already covered, and, unless it is, drains the
 * view's dirty keys. The fence is taken first (`f`); the rest is read or done only if it was.
 *
 * A request is covered by a successful refresh that started after it: any refresh for a key
 * request, but only while no key waits (a waiting job absorbs later requests and keeps its
 * first requestedAt); only a whole-view refresh for a whole-view request (a schedule's full
 * rebuild is what catches changes whose event never came), and only while no whole-view
 * request made since that refresh started waits.
 *
 * A whole-view refresh deletes the view's pending requests this statement can see (they are
 * covered by the refresh that follows it in this transaction); a keyed refresh drains the
 * view's dirty keys.
 *
 * The drain deletes the dirty keys this statement can see; keys recorded later stay for the
 * next refresh, and a refresh that rolls back puts its keys back. `started_at` is this
 * statement's start: before the drain's snapshot and the refresh's, so as_of never claims
 * more than the view holds.
 *
 * client_connection_check_interval aborts a running REFRESH whose worker died (PostgreSQL 14+);
 * idle_in_transaction_session_timeout ends a refresh transaction whose host vanished between
 * statements (no FIN ever arrives), releasing the fence instead of holding it for hours.
 */
export async function beginRefresh(
  tx: Queryable, store: EngineStore,
  view: string,
  limits: { lockTimeoutMs: number; statementTimeoutMs: number; fingerprint: string },
  ask: RefreshAsk,
): Promise<RefreshStart> {
  const [row] = await tx<
    [
      {
        acquired: boolean;
        pid: number;
        started_at: Date | string;
        covered_by: Date | string | null;
        skip: boolean;
        drained_keys: unknown[];
        drained_request_ids: number[];
        last_rows: number | null;
        kind: string | null;
        populated: boolean | null;
        has_unique: boolean;
      },
    ]
  >`
    WITH f AS MATERIALIZED (
      SELECT pg_try_advisory_xact_lock(${VIEW_FENCE_NAMESPACE}, hashtext(${view})) AS acquired
    ), state AS MATERIALIZED (
      SELECT f.acquired,
             pg_backend_pid() AS pid,
             statement_timestamp() AS started_at,
             CASE WHEN ${ask.scope} = 'keys' THEN s.started_at ELSE w.started_at END AS covered_by,
             s.rows_after::float8 AS last_rows,
             f.acquired AND EXISTS (SELECT 1 FROM ${tx(store.dirtyKeys)} d WHERE d.view_name = ${view}) AS pending_keys,
             c.relkind::text AS kind,
             CASE c.relkind
               WHEN 'm' THEN c.relispopulated
               WHEN 'r' THEN EXISTS (SELECT 1 FROM ${tx(store.tableState)} t WHERE t.view_name = ${view} AND t.relid = c.oid::bigint
                                       AND t.definition_md5 = ${limits.fingerprint})
             END AS populated,
             EXISTS (
               SELECT 1 FROM pg_index ix
               WHERE ix.indrelid = c.oid
                 AND ix.indisunique AND ix.indisvalid AND ix.indpred IS NULL AND ix.indexprs IS NULL
             ) AS has_unique,
             set_config('lock_timeout', ${`${limits.lockTimeoutMs}ms`}, true) AS lock_timeout,
             set_config('statement_timeout', ${`${limits.statementTimeoutMs}ms`}, true) AS statement_timeout,
             set_config('client_connection_check_interval', '1s', true) AS check_interval,
             set_config('idle_in_transaction_session_timeout', '60s', true) AS idle_timeout
      FROM f
      LEFT JOIN LATERAL (
        SELECT started_at, rows_after FROM ${tx(store.refreshLog)}
        WHERE f.acquired AND view_name = ${view} AND status = 'success' ORDER BY started_at DESC LIMIT 1
      ) s ON true
      LEFT JOIN LATERAL (
        SELECT started_at FROM ${tx(store.refreshLog)}
        WHERE f.acquired AND ${ask.scope} = 'view' AND view_name = ${view} AND status = 'success'
          AND strategy IS DISTINCT FROM 'targeted'
        ORDER BY started_at DESC LIMIT 1
      ) w ON true
      LEFT JOIN pg_class c ON c.oid = to_regclass(${quoteIdent(view)}) AND c.relkind IN ('m', 'r')
    ), decided AS MATERIALIZED (
      SELECT state.*,
             COALESCE(state.covered_by >= ${ask.coveredAfter?.toISOString() ?? null}::timestamptz
                      AND NOT (${ask.scope} = 'keys' AND state.pending_keys)
                      AND NOT (${ask.scope} = 'view' AND EXISTS (
                        SELECT 1 FROM ${tx(store.pendingRequests)} p
                        WHERE p.view_name = ${view} AND p.requested_at >= state.covered_by)), false) AS skip
      FROM state
    ), drained AS (
      DELETE FROM ${tx(store.dirtyKeys)}
      WHERE ${ask.drain} AND view_name = ${view} AND (SELECT acquired AND NOT skip FROM decided)
      RETURNING key
    ), covered_requests AS (
      DELETE FROM ${tx(store.pendingRequests)}
      WHERE ${ask.scope} = 'view' AND view_name = ${view} AND (SELECT acquired AND NOT skip FROM decided)
      RETURNING id
    )
    SELECT decided.*, (SELECT COALESCE(jsonb_agg(DISTINCT key), '[]'::jsonb) FROM drained) AS drained_keys,
           (SELECT COALESCE(jsonb_agg(id), '[]'::jsonb) FROM covered_requests) AS drained_request_ids
    FROM decided`;
  const storage = row.kind === 'm' ? 'materialized' : row.kind === 'r' ? 'table' : null;
  return {
    acquired: row.acquired,
    pid: row.pid,
    startedAt: toDate(row.started_at),
    coveredBy: toDate(row.covered_by),
    skip: row.acquired && row.skip,
    drainedKeys: row.drained_keys,
    drainedRequestIds: row.drained_request_ids,
    lastRows: row.last_rows,
    storage,
    exists: storage !== null,
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
