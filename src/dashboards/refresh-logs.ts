import type { Queryable } from '../core/db.js';
import { toDate } from '../core/pg-values.js';
import type { EngineStore } from '../store/engine-schema.js';

/** A refresh-log row as the CLI and API show it (the log's own column names). */
export interface RefreshLogEntry {
  id: number;
  view_name: string;
  status: string;
  mode: string | null;
  reason: string;
  trigger_detail: string | null;
  job_id: string | null;
  attempt: number;
  worker_id: string | null;
  requested_at: string | null;
  started_at: string;
  finished_at: string | null;
  duration_ms: number | null;
  lock_wait_ms: number | null;
  rows_after: number | null;
  /** `targeted` (only dirty keys recomputed) or `full`; null until decided and for skipped or failed attempts. */
  strategy: string | null;
  /** Keyed views: the dirty keys the refresh drained; null otherwise. */
  keys_refreshed: number | null;
  /** Full rebuilds of table-stored views: rows changed outside the announced keys (drift); null otherwise. */
  rows_corrected: number | null;
  error_message: string | null;
  error_code: string | null;
}

/** Latest attempts first, optionally of one view. */
export async function readRefreshLogs(
  sql: Queryable, store: EngineStore,
  options: { view?: string | undefined; limit: number },
): Promise<RefreshLogEntry[]> {
  type Timestamps = Record<'requested_at' | 'started_at' | 'finished_at', Date | string | null>;
  const rows = await sql<(Omit<RefreshLogEntry, keyof Timestamps> & Timestamps)[]>`
    SELECT id::float8 AS id, view_name, status, mode, reason, trigger_detail, job_id, attempt, worker_id, requested_at,
           started_at, finished_at, duration_ms, lock_wait_ms, rows_after::float8 AS rows_after, strategy, keys_refreshed,
           rows_corrected::float8 AS rows_corrected, error_message, error_code
    FROM ${sql(store.refreshLog)}
    WHERE ${options.view ?? null}::text IS NULL OR view_name = ${options.view ?? null}
    ORDER BY started_at DESC, id DESC
    LIMIT ${options.limit}`;
  const iso = (value: Date | string | null) => toDate(value)?.toISOString() ?? null;
  return rows.map((row) => ({
    ...row,
    requested_at: iso(row.requested_at),
    started_at: iso(row.started_at) ?? '',
    finished_at: iso(row.finished_at),
  }));
}
