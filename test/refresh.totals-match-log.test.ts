import { describe, expect, it } from 'vitest';
import { demoCatalog } from '../examples/demo/schema/catalog.js';
import type { Queryable } from '../src/core/db.js';
import { engineSchemaVersion, migrateEngine } from '../src/store/engine-migrations.js';
import { REFRESH_DURATION_BUCKETS } from '../src/store/refresh-duration-buckets.js';
import { closeOrphans, markFailed, startAttempt, type AttemptIdentity } from '../src/workers/refresh-log-store.js';
import { createRefreshExecutor } from '../src/workers/refresh-executor.js';
import { useTestDatabase } from './helpers/database.js';

/** A table-stored view and an MV of the demo catalog. */
const TOURNAMENTS = 'tournament_analytics_summary';
const BUDGET = 'mv_budget_consolidation';
const store = demoCatalog.store;

interface TotalsRow {
  view_name: string;
  status: string;
  reason: string;
  mode: string;
  strategy: string;
  bucket: number;
  attempts: number;
  duration_ms: number;
  keys_refreshed: number;
  rows_corrected: number;
  last_started_at: string;
}

const keyOf = (row: TotalsRow) => [row.view_name, row.status, row.reason, row.mode, row.strategy, row.bucket].join(' ');
const sorted = (rows: TotalsRow[]) => [...rows].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));

/** Index of the first bound (in seconds) a duration does not exceed; the bounds' length for +Inf. */
function bucketOf(durationMs: number | null): number {
  if (durationMs === null) return -1;
  const index = REFRESH_DURATION_BUCKETS.findIndex((bound) => durationMs <= bound * 1_000);
  return index === -1 ? REFRESH_DURATION_BUCKETS.length : index;
}

/** What the log says, grouped here in JavaScript (not with the migration's SQL). */
async function totalsFromLog(sql: Queryable): Promise<TotalsRow[]> {
  const rows = await sql<
    {
      view_name: string;
      status: string;
      reason: string;
      mode: string | null;
      strategy: string | null;
      duration_ms: number | null;
      keys_refreshed: number | null;
      rows_corrected: number | null;
      started_at: Date;
    }[]
  >`SELECT view_name, status, reason, mode, strategy, duration_ms, keys_refreshed, rows_corrected::float8 AS rows_corrected, started_at
    FROM mvfleet.mv_refresh_log WHERE status <> 'running'`;
  const groups = new Map<string, TotalsRow>();
  for (const row of rows) {
    const key: TotalsRow = {
      view_name: row.view_name,
      status: row.status,
      reason: row.reason,
      mode: row.mode ?? 'none',
      strategy: row.status === 'success' ? (row.strategy ?? 'full') : 'none',
      bucket: bucketOf(row.duration_ms),
      attempts: 0,
      duration_ms: 0,
      keys_refreshed: 0,
      rows_corrected: 0,
      last_started_at: row.started_at.toISOString(),
    };
    const entry = groups.get(keyOf(key)) ?? key;
    entry.attempts += 1;
    entry.duration_ms += row.duration_ms ?? 0;
    entry.keys_refreshed += row.keys_refreshed ?? 0;
    entry.rows_corrected += row.strategy === 'full' ? (row.rows_corrected ?? 0) : 0;
    if (row.started_at.toISOString() > entry.last_started_at) entry.last_started_at = row.started_at.toISOString();
    groups.set(keyOf(key), entry);
  }
  return sorted([...groups.values()]);
}

async function totalsTable(sql: Queryable): Promise<TotalsRow[]> {
  const rows = await sql<(Omit<TotalsRow, 'last_started_at'> & { last_started_at: Date })[]>`
    SELECT view_name, status, reason, mode, strategy, bucket, attempts::float8 AS attempts, duration_ms::float8 AS duration_ms,
           keys_refreshed::float8 AS keys_refreshed, rows_corrected::float8 AS rows_corrected, last_started_at
    FROM mvfleet.mv_refresh_totals`;
  return sorted(rows.map((row) => ({ ...row, last_started_at: row.last_started_at.toISOString() })));
}

const identity = (view: string, reason: AttemptIdentity['reason'] = 'manual'): AttemptIdentity => ({
  view,
  reason,
  triggerDetail: 'totals test',
  jobId: null,
  attempt: 1,
  workerId: 'totals-test',
  requestedAt: null,
});

/** A `running` row whose backend is gone: what a worker killed mid-refresh leaves. */
const deadWorkerAttempt = (sql: Queryable, view: string) => startAttempt(sql, store, identity(view, 'schedule'), 2_000_000_000, new Date(Date.now() - 40));

describe('mv_refresh_totals equals what the refresh log says', () => {
  const db = useTestDatabase();

  it('after successful, failed, skipped and worker-lost attempts', async () => {
    const executor = createRefreshExecutor({ sql: db.sql, catalog: demoCatalog, workerId: 'totals-test' });
    const before = new Date(Date.now() - 60_000);
    expect((await executor.refresh({ view: TOURNAMENTS, reason: 'manual' })).status).toBe('success');
    expect((await executor.refresh({ view: BUDGET, reason: 'schedule', triggerDetail: 'nightly' })).status).toBe('success');
    expect((await executor.refresh({ view: BUDGET, reason: 'manual' })).status).toBe('success');
    // Asked for before the last success started: already covered.
    expect((await executor.refresh({ view: BUDGET, reason: 'event', requestedAt: before })).status).toBe('skipped');

    // A failed refresh: the MV is gone under its name.
    await db.sql`ALTER MATERIALIZED VIEW mv_budget_consolidation RENAME TO mv_budget_consolidation_away`;
    await expect(executor.refresh({ view: BUDGET, reason: 'api' })).rejects.toThrow();
    await db.sql`ALTER MATERIALIZED VIEW mv_budget_consolidation_away RENAME TO mv_budget_consolidation`;

    // Worker lost, closed by the next attempt of the view (in the statement that starts it)
    // and by the sweep for views nobody refreshes.
    await deadWorkerAttempt(db.sql, TOURNAMENTS);
    expect((await executor.refresh({ view: TOURNAMENTS, reason: 'cascade' })).status).toBe('success');
    await deadWorkerAttempt(db.sql, BUDGET);
    expect(await closeOrphans(db.sql, store)).toBe(1);

    const log = await db.sql<{ status: string; error_message: string | null }[]>`SELECT status, error_message FROM mvfleet.mv_refresh_log`;
    expect(new Set(log.map((row) => row.status))).toEqual(new Set(['success', 'failed', 'skipped']));
    expect(log.filter((row) => row.error_message?.startsWith('worker lost'))).toHaveLength(2);
    const expected = await totalsFromLog(db.sql);
    expect(expected.reduce((sum, row) => sum + row.attempts, 0)).toBe(log.length);
    expect(await totalsTable(db.sql)).toEqual(expected);
  });

  it('keeps counting what pruning deletes from the log', async () => {
    const counted = await totalsTable(db.sql);
    await db.sql`DELETE FROM mvfleet.mv_refresh_log`;
    expect(await totalsTable(db.sql)).toEqual(counted);
  });

  it('counts an attempt once, as first closed, when a late failure rewrites its worker-lost row', async () => {
    const { id } = await startAttempt(db.sql, store, identity(TOURNAMENTS), 2_000_000_001, new Date());
    // Another worker's sweep closes it while its own worker is still rolling back...
    expect(await closeOrphans(db.sql, store)).toBe(1);
    const counted = await totalsTable(db.sql);
    // ...which then records the real cause on the same row.
    await markFailed(db.sql, store, id, { mode: 'plain', lockWaitMs: 3, message: 'canceling statement due to lock timeout', sqlState: '55P03' });
    const [row] = await db.sql<[{ mode: string; error_code: string }]>`SELECT mode, error_code FROM mvfleet.mv_refresh_log WHERE id = ${id}`;
    expect(row).toEqual({ mode: 'plain', error_code: '55P03' });
    // Moving it to the `plain` series would make the `none` series' counter go down.
    expect(await totalsTable(db.sql)).toEqual(counted);
  });
});

describe('engine migration 4 backfills the totals from the log rows already there', () => {
  const db = useTestDatabase();

  it('counts every finished row of a log written before the totals existed', async () => {
    // Back to engine version 3: the totals, their trigger functions and journal entry gone.
    await db.sql`DROP TABLE mvfleet.mv_refresh_totals`;
    await db.sql`DROP FUNCTION mvfleet.mv_refresh_totals_on_insert, mvfleet.mv_refresh_totals_on_update CASCADE`;
    await db.sql`DELETE FROM mvfleet.schema_migrations WHERE version = 4`;
    expect(await engineSchemaVersion(db.sql, store)).toEqual({ current: 3, latest: 4 });

    // Every kind of row, durations across the buckets, successes without a strategy (as old versions wrote them).
    await db.sql`
      INSERT INTO mvfleet.mv_refresh_log (view_name, status, mode, reason, strategy, keys_refreshed, rows_corrected, started_at, finished_at, duration_ms, error_message)
      SELECT (ARRAY[${TOURNAMENTS}, ${BUDGET}])[1 + i % 2],
             (ARRAY['success', 'success', 'failed', 'skipped', 'running'])[1 + i % 5],
             CASE WHEN i % 5 IN (0, 1) THEN (ARRAY['concurrent', 'plain'])[1 + i % 3 % 2] WHEN i % 5 = 2 AND i % 7 > 0 THEN 'plain' END,
             (ARRAY['schedule', 'event', 'manual', 'api', 'cascade'])[1 + i % 11 % 5],
             CASE WHEN i % 5 IN (0, 1) THEN (ARRAY['targeted', 'full', NULL])[1 + i % 13 % 3] END,
             CASE WHEN i % 5 IN (0, 1) THEN i % 17 END,
             CASE WHEN i % 5 IN (0, 1) THEN i % 19 END,
             now() - make_interval(secs => i * 37),
             CASE WHEN i % 5 <> 4 THEN now() - make_interval(secs => i * 37) END,
             CASE WHEN i % 5 = 3 AND i % 3 = 0 THEN NULL WHEN i % 5 <> 4 THEN floor(power(10, (i % 67) / 10.0))::int END,
             CASE WHEN i % 5 = 2 THEN 'boom' END
      FROM generate_series(1, 3000) AS i`;
    const expected = await totalsFromLog(db.sql);
    expect(expected.some((row) => row.bucket === -1)).toBe(true);
    expect(expected.some((row) => row.bucket === REFRESH_DURATION_BUCKETS.length)).toBe(true);
    expect(new Set(expected.map((row) => row.bucket)).size).toBeGreaterThan(REFRESH_DURATION_BUCKETS.length);

    const applied = await db.sql.begin((tx) => migrateEngine(tx, store));
    expect(applied).toEqual(['engine 0004 refresh totals']);
    expect(await engineSchemaVersion(db.sql, store)).toEqual({ current: 4, latest: 4 });
    expect(await totalsTable(db.sql)).toEqual(expected);

    // From here on the triggers count: a running row that finishes is added once.
    await db.sql`UPDATE mvfleet.mv_refresh_log SET status = 'failed', duration_ms = 5 WHERE status = 'running'`;
    await db.sql`UPDATE mvfleet.mv_refresh_log SET error_message = 'rewritten' WHERE status = 'failed'`;
    expect(await totalsTable(db.sql)).toEqual(await totalsFromLog(db.sql));
  });

  it('reports a database that misses an earlier migration as behind, whatever later ones it holds', async () => {
    await db.sql`DELETE FROM mvfleet.schema_migrations WHERE version = 2`;
    expect(await engineSchemaVersion(db.sql, store)).toEqual({ current: 1, latest: 4 });
    await db.sql`INSERT INTO mvfleet.schema_migrations (version, name) VALUES (2, 'pending requests')`;
    expect(await engineSchemaVersion(db.sql, store)).toEqual({ current: 4, latest: 4 });
  });
});
