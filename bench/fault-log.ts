import { setTimeout as delay } from 'node:timers/promises';
import type { Sql } from '../src/core/db.js';

/** What the refresh log says about the acknowledged events of the faults scenario. */

/** One event `emit` acknowledged. Times are epoch milliseconds (sub-millisecond) on the machine's clock. */
export interface AckedEvent {
  /** `emit` resolved: the app was told the request is safe. */
  ackAt: number;
  /** Views the event refreshes (cascades included), each with the moment from which a refresh shows the event (see storm-log.ts `Sent`). */
  views: { view: string; coveredFrom: number }[];
}

/** Per event: the start of the refresh that covered each view (null: never), and of the last one (null: a view never got one). */
export interface Coverage {
  ackAt: number;
  views: { view: string; coveredAt: number | null }[];
  coveredAt: number | null;
}

export const COVERAGE_NOTE =
  'An event is covered once each of its views (cascades included) had a successful refresh that started at or after the event\'s ' +
  'write committed (for a keyed view: after its dirty keys committed, just before the ack); lost = acknowledged events with a view ' +
  'never covered; lag = start of the last of those covering refreshes − the ack (a refresh that started between commit and ack counts as 0).';

/** For each acknowledged event, when each of its views was covered (one query against the refresh log's success index). */
export async function coverage(sql: Sql, events: readonly AckedEvent[]): Promise<Coverage[]> {
  const pairs = events.flatMap((event) => event.views);
  const rows = await sql<{ covered_ms: number | null }[]>`
    SELECT extract(epoch FROM r.started_at)::float8 * 1000 AS covered_ms
    FROM unnest(${pairs.map((p) => p.view)}::text[], ${pairs.map((p) => p.coveredFrom)}::float8[]) WITH ORDINALITY AS e(view, covered_from_ms, n)
    LEFT JOIN LATERAL (
      SELECT started_at FROM mvfleet.mv_refresh_log
      WHERE view_name = e.view AND status = 'success' AND started_at >= to_timestamp(e.covered_from_ms / 1000)
      ORDER BY started_at LIMIT 1
    ) r ON true
    ORDER BY e.n`;
  let next = 0;
  return events.map((event) => {
    const views = event.views.map(({ view }) => {
      const covered = rows[next++]?.covered_ms;
      return { view, coveredAt: covered === null || covered === undefined ? null : Number(covered) };
    });
    const times = views.map((view) => view.coveredAt);
    return { ackAt: event.ackAt, views, coveredAt: times.includes(null) ? null : Math.max(...(times as number[])) };
  });
}

/** Refresh-log totals since `since`. */
export async function refreshTotals(sql: Sql, since: Date): Promise<{ success: number; failed: number; skipped: number }> {
  const [row] = await sql<{ success: number; failed: number; skipped: number }[]>`
    SELECT count(*) FILTER (WHERE status = 'success')::int AS success,
           count(*) FILTER (WHERE status = 'failed')::int AS failed,
           count(*) FILTER (WHERE status = 'skipped')::int AS skipped
    FROM mvfleet.mv_refresh_log WHERE started_at >= ${since}`;
  return row ?? { success: 0, failed: 0, skipped: 0 };
}

/**
 * Polls until nothing waits (no whole-view request, no dirty key, no running refresh) or the
 * deadline passes; returns how long that took, or null at the deadline. Errors (PostgreSQL
 * still coming back) count as "not quiet yet".
 */
export async function waitForQuiet(sql: Sql, deadlineMs: number): Promise<number | null> {
  const start = performance.now();
  for (;;) {
    const quiet = await sql<{ quiet: boolean }[]>`
      SELECT NOT EXISTS (SELECT 1 FROM mvfleet.mv_pending_requests)
         AND NOT EXISTS (SELECT 1 FROM mvfleet.mv_dirty_keys)
         AND NOT EXISTS (SELECT 1 FROM mvfleet.mv_refresh_log WHERE status = 'running') AS quiet`
      .then(([row]) => row?.quiet ?? false)
      .catch(() => false);
    if (quiet) return performance.now() - start;
    if (performance.now() - start > deadlineMs) return null;
    await delay(250);
  }
}
