import type { Queryable } from '../../src/core/db.js';

export interface LogRow {
  id: number;
  view_name: string;
  status: string;
  mode: string | null;
  reason: string;
  trigger_detail: string | null;
  job_id: string | null;
  attempt: number;
  worker_id: string | null;
  started_at: Date;
  finished_at: Date | null;
  duration_ms: number | null;
  lock_wait_ms: number | null;
  rows_after: number | null;
  error_message: string | null;
  error_code: string | null;
}

export async function logRows(sql: Queryable, view?: string): Promise<LogRow[]> {
  return sql<LogRow[]>`
    SELECT id, view_name, status, mode, reason, trigger_detail, job_id, attempt, worker_id,
           started_at, finished_at, duration_ms, lock_wait_ms, rows_after, error_message, error_code
    FROM mvfleet.mv_refresh_log
    WHERE ${view ?? null}::text IS NULL OR view_name = ${view ?? null}
    ORDER BY id`;
}

/** Pairs of attempts of one view whose [started_at, finished_at] intervals overlap. */
export function overlappingAttempts(rows: LogRow[]): [LogRow, LogRow][] {
  const attempts = rows
    .filter((row) => row.status === 'success' || row.status === 'failed')
    .sort((a, b) => a.started_at.getTime() - b.started_at.getTime());
  const overlaps: [LogRow, LogRow][] = [];
  for (let i = 1; i < attempts.length; i++) {
    const previous = attempts[i - 1]!;
    const current = attempts[i]!;
    if (previous.view_name === current.view_name && previous.finished_at && current.started_at < previous.finished_at) {
      overlaps.push([previous, current]);
    }
  }
  return overlaps;
}
