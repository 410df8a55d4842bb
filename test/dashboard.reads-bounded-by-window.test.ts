import { describe, expect, it } from 'vitest';
import { demoCatalog } from '../examples/demo/schema/catalog.js';
import type { Queryable, Sql } from '../src/core/db.js';
import { readLastSuccessAges, readRefreshLogBuckets, readRefreshStrategyTotals } from '../src/dashboards/refresh-log-totals.js';
import { readRefreshStats } from '../src/dashboards/refresh-stats.js';
import { useTestDatabase } from './helpers/database.js';

const store = demoCatalog.store;
const views = demoCatalog.views.map((view) => view.name);
const OLD_ROWS = 30_000;
const RECENT_ROWS = 60;

/**
 * What one read costs, counted by PostgreSQL itself: the log rows a transaction read, from
 * `pg_stat_xact_user_tables` (this transaction's own counters). A log of many old rows and a
 * few recent ones tells reads that scale with the log from reads that do not.
 */
async function logRowsRead(sql: Sql, read: (tx: Queryable) => Promise<unknown>) {
  return sql.begin(async (tx) => {
    await read(tx);
    const [counters] = await tx<[{ seq_scan: number; read: number }]>`
      SELECT coalesce(seq_scan, 0)::int AS seq_scan, (coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0))::int AS read
      FROM pg_stat_xact_user_tables WHERE relid = 'mvfleet.mv_refresh_log'::regclass`;
    return counters;
  });
}

describe('dashboard reads do not grow with the refresh log', () => {
  const db = useTestDatabase();

  it('/metrics reads none of the log and /api/stats only the rows inside its window', async () => {
    // Old history (30 to 400 days back) and a few attempts of the last day.
    await db.sql`
      INSERT INTO mvfleet.mv_refresh_log (view_name, status, mode, reason, started_at, finished_at, duration_ms, error_message)
      SELECT (${views}::text[])[1 + i % ${views.length}], CASE WHEN i % 10 = 0 THEN 'failed' ELSE 'success' END, 'concurrent', 'schedule',
             now() - make_interval(days => 30 + i % 370), now() - make_interval(days => 30 + i % 370), 5 + i % 900,
             CASE WHEN i % 10 = 0 THEN 'old failure' END
      FROM generate_series(1, ${OLD_ROWS}) AS i`;
    await db.sql`
      INSERT INTO mvfleet.mv_refresh_log (view_name, status, mode, reason, started_at, finished_at, duration_ms, error_message)
      SELECT (${views}::text[])[1 + i % ${views.length}], CASE WHEN i % 10 = 0 THEN 'failed' ELSE 'success' END, 'concurrent', 'event',
             now() - make_interval(mins => i * 10), now() - make_interval(mins => i * 10), 5 + i,
             CASE WHEN i % 10 = 0 THEN 'recent failure' END
      FROM generate_series(1, ${RECENT_ROWS}) AS i`;
    await db.sql`ANALYZE mvfleet.mv_refresh_log`;

    const metrics = await logRowsRead(db.sql, (tx) =>
      Promise.all([readRefreshLogBuckets(tx, store), readRefreshStrategyTotals(tx, store), readLastSuccessAges(tx, store, views)]),
    );
    expect(metrics).toEqual({ seq_scan: 0, read: 0 });

    let stats: Awaited<ReturnType<typeof readRefreshStats>> | undefined;
    const statsCost = await logRowsRead(db.sql, async (tx) => {
      stats = await readRefreshStats(tx, demoCatalog, 7);
    });
    // The window's rows (give or take an index boundary), none of the 30,000 older ones.
    expect(statsCost.seq_scan).toBe(0);
    expect(statsCost.read).toBeGreaterThanOrEqual(RECENT_ROWS);
    expect(statsCost.read).toBeLessThan(RECENT_ROWS * 2);
    // And what it read is the window: recent attempts only, the old failures left out.
    expect(stats!.views.reduce((sum, view) => sum + view.successes + view.failures, 0)).toBe(RECENT_ROWS);
    expect(stats!.views.flatMap((view) => view.recent_failures.map((failure) => failure.error_message))).toEqual(
      Array.from({ length: RECENT_ROWS / 10 }, () => 'recent failure'),
    );
  });
});
