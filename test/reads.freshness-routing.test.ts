import { beforeAll, describe, expect, it } from 'vitest';
import { createReader } from '../src/reads/index.js';
import { demoCatalog } from '../examples/demo/schema/catalog.js';
import { seedDemo } from '../examples/demo/seed/index.js';
import { createRefreshExecutor } from '../src/workers/refresh-executor.js';
import { useTestDatabase } from './helpers/database.js';

const VIEW = 'tournament_analytics_summary';
const MINUTE = 60_000;

describe('reads route by freshness', () => {
  const db = useTestDatabase();
  /** The refresh-log row of the last successful refresh of VIEW. */
  let refresh: { id: number; started_at: Date };
  let tournamentId: number;

  /** A reader whose clock reads `refresh.started_at + minutes`; no freshness caching unless asked. */
  const readerAt = (minutes: number, freshnessCacheMs = 0) =>
    createReader({
      sql: db.sql,
      catalog: demoCatalog,
      freshnessCacheMs,
      now: () => new Date(refresh.started_at.getTime() + minutes * MINUTE),
    });

  beforeAll(async () => {
    await seedDemo({ sql: db.sql, scale: 'small' });
    const outcome = await createRefreshExecutor({ sql: db.sql, catalog: demoCatalog }).refresh({ view: VIEW, reason: 'manual' });
    if (outcome.status !== 'success') throw new Error(`refresh of ${VIEW}: ${outcome.status}`);
    // A finish well after the start, so an as_of taken from finished_at could not pass for started_at.
    [refresh] = await db.sql<[{ id: number; started_at: Date }]>`
      UPDATE mvfleet.mv_refresh_log SET finished_at = started_at + interval '5 minutes'
      WHERE id = ${outcome.logId} RETURNING id, started_at`;
    [{ id: tournamentId }] = await db.sql<[{ id: number }]>`
      SELECT t.id FROM tournaments t WHERE EXISTS (SELECT FROM matches m WHERE m.tournament_id = t.id) ORDER BY t.id LIMIT 1`;
  });

  it('serves a fresh MV, with as_of the start of the last successful refresh and the age from it', async () => {
    const { cache } = await readerAt(7.5).get(VIEW, tournamentId);
    expect(cache).toEqual({ source: 'materialized', as_of: refresh.started_at.toISOString(), age_minutes: 7.5 });
  });

  it('rounds age_minutes to two decimals and serves the MV at exactly the threshold', async () => {
    expect((await readerAt(1 / 3).get(VIEW, tournamentId)).cache.age_minutes).toBe(0.33);
    expect((await readerAt(15).get(VIEW, tournamentId)).cache).toMatchObject({ source: 'materialized', age_minutes: 15 });
  });

  it('goes live past the view’s freshForMinutes and shows writes made after the refresh', async () => {
    const [before] = await db.sql<[{ total_matches: number }]>`
      SELECT total_matches FROM tournament_analytics_summary WHERE tournament_id = ${tournamentId}`;
    await db.sql`
      INSERT INTO matches (tournament_id, round, state)
      SELECT tournament_id, round, 'scheduled' FROM matches WHERE tournament_id = ${tournamentId} LIMIT 1`;
    try {
      const stale = await readerAt(16).get(VIEW, tournamentId);
      expect(stale.cache).toEqual({ source: 'live', as_of: new Date(refresh.started_at.getTime() + 16 * MINUTE).toISOString(), age_minutes: 0 });
      expect(stale.data?.total_matches).toBe(before.total_matches + 1);

      const fresh = await readerAt(14).get(VIEW, tournamentId);
      expect(fresh.cache.source).toBe('materialized');
      expect(fresh.data?.total_matches).toBe(before.total_matches);
    } finally {
      await db.sql`DELETE FROM matches WHERE id = (SELECT max(id) FROM matches WHERE tournament_id = ${tournamentId})`;
    }
  });

  it('takes maxAgeMinutes over the view’s default both ways', async () => {
    const reader = readerAt(20);
    expect((await reader.get(VIEW, tournamentId, { maxAgeMinutes: 30 })).cache.source).toBe('materialized');
    expect((await reader.get(VIEW, tournamentId, { maxAgeMinutes: 19 })).cache.source).toBe('live');
    expect((await readerAt(1).get(VIEW, tournamentId, { maxAgeMinutes: 0 })).cache.source).toBe('live');
  });

  it('always goes live with live: true, even when the MV is fresh', async () => {
    const { cache } = await readerAt(0.5).get(VIEW, tournamentId, { live: true });
    expect(cache).toEqual({ source: 'live', as_of: new Date(refresh.started_at.getTime() + 0.5 * MINUTE).toISOString(), age_minutes: 0 });
    expect((await readerAt(0.5).list(VIEW, { tournament_status: 'completed' }, { live: true })).cache.source).toBe('live');
  });

  it('goes live for an unpopulated view, even with a success in the log (e.g. recreated by a migration)', async () => {
    const unpopulated = 'mv_kpi_dashboard';
    const reader = createReader({ sql: db.sql, catalog: demoCatalog, freshnessCacheMs: 0 });
    const [{ id }] = await db.sql<[{ id: number }]>`SELECT id FROM budget_versions WHERE deleted_at IS NULL ORDER BY id LIMIT 1`;

    const never = await reader.get(unpopulated, id);
    expect(never.cache.source).toBe('live');
    expect(never.data?.budget_version_id).toBe(id);

    await db.sql`
      INSERT INTO mvfleet.mv_refresh_log (view_name, status, mode, reason, started_at, finished_at)
      VALUES (${unpopulated}, 'success', 'plain', 'manual', now(), now())`;
    expect((await reader.get(unpopulated, id)).cache.source).toBe('live');
  });

  it('goes live for a view populated outside mvfleet (no successful refresh in the log)', async () => {
    await db.sql`REFRESH MATERIALIZED VIEW referensi_ahsp_stats`;
    const reader = createReader({ sql: db.sql, catalog: demoCatalog, freshnessCacheMs: 0 });
    const [{ ahsp_id }] = await db.sql<[{ ahsp_id: number }]>`SELECT ahsp_id FROM referensi_ahsp_stats LIMIT 1`;
    expect((await reader.get('referensi_ahsp_stats', ahsp_id)).cache.source).toBe('live');
  });

  it('ignores failed and running attempts newer than the last success', async () => {
    await db.sql`
      INSERT INTO mvfleet.mv_refresh_log (view_name, status, mode, reason, started_at, finished_at, error_message)
      VALUES (${VIEW}, 'failed', 'concurrent', 'manual', ${refresh.started_at}::timestamptz + interval '1 minute',
              ${refresh.started_at}::timestamptz + interval '2 minutes', 'lock timeout'),
             (${VIEW}, 'running', NULL, 'manual', ${refresh.started_at}::timestamptz + interval '3 minutes', NULL, NULL)`;
    try {
      expect((await readerAt(10).get(VIEW, tournamentId)).cache.as_of).toBe(refresh.started_at.toISOString());
    } finally {
      await db.sql`DELETE FROM mvfleet.mv_refresh_log WHERE view_name = ${VIEW} AND status IN ('failed', 'running')`;
    }
  });

  it('reuses a view’s freshness for freshnessCacheMs, then looks again', async () => {
    let minutes = 1;
    const reader = createReader({
      sql: db.sql,
      catalog: demoCatalog,
      freshnessCacheMs: 1000,
      now: () => new Date(refresh.started_at.getTime() + minutes * MINUTE),
    });
    expect((await reader.get(VIEW, tournamentId)).cache.source).toBe('materialized');
    // The log now says the last success was an hour earlier; the cached as_of still applies.
    await db.sql`UPDATE mvfleet.mv_refresh_log SET started_at = started_at - interval '1 hour' WHERE id = ${refresh.id}`;
    try {
      expect((await reader.get(VIEW, tournamentId)).cache).toMatchObject({ source: 'materialized', age_minutes: 1 });
      minutes += 1001 / MINUTE;
      expect((await reader.get(VIEW, tournamentId)).cache.source).toBe('live');
    } finally {
      await db.sql`UPDATE mvfleet.mv_refresh_log SET started_at = started_at + interval '1 hour' WHERE id = ${refresh.id}`;
    }
  });

  it('falls back to live when the MV was emptied after its freshness was cached', async () => {
    // Only an MV can be emptied in place (REFRESH … WITH NO DATA); the tournament view is a table.
    const emptied = 'mv_kpi_dashboard';
    const outcome = await createRefreshExecutor({ sql: db.sql, catalog: demoCatalog }).refresh({ view: emptied, reason: 'manual' });
    expect(outcome.status).toBe('success');
    const reader = createReader({ sql: db.sql, catalog: demoCatalog, freshnessCacheMs: 60_000 });
    const [{ id }] = await db.sql<[{ id: number }]>`SELECT budget_version_id AS id FROM mv_kpi_dashboard ORDER BY 1 LIMIT 1`;
    expect((await reader.get(emptied, id)).cache.source).toBe('materialized');
    await db.sql`REFRESH MATERIALIZED VIEW mv_kpi_dashboard WITH NO DATA`;
    try {
      const { data, cache } = await reader.get(emptied, id);
      expect(cache.source).toBe('live');
      expect(data?.budget_version_id).toBe(id);
    } finally {
      await db.sql`REFRESH MATERIALIZED VIEW mv_kpi_dashboard`;
    }
  });

  it('reads a view built on another MV live all the way down, not from the stale upstream MV', async () => {
    const executor = createRefreshExecutor({ sql: db.sql, catalog: demoCatalog });
    await executor.refresh({ view: 'mv_revenue_by_project_month', reason: 'manual' });
    await executor.refresh({ view: 'mv_revenue_by_firm_quarter', reason: 'manual' });
    const reader = createReader({ sql: db.sql, catalog: demoCatalog, freshnessCacheMs: 0 });
    const [invoice] = await db.sql<[{ id: number; firm_id: number; quarter: Date }]>`
      SELECT i.id, p.firm_id, date_trunc('quarter', i.paid_on::timestamp)::date AS quarter
      FROM invoices i JOIN projects p ON p.id = i.project_id
      WHERE i.status = 'paid' AND i.paid_on IS NOT NULL ORDER BY i.id LIMIT 1`;
    const key = { firm_id: invoice.firm_id, quarter: invoice.quarter };
    const before = await reader.get('mv_revenue_by_firm_quarter', key);
    expect(before.cache.source).toBe('materialized');

    await db.sql`UPDATE invoices SET paid_amount = paid_amount + 1000 WHERE id = ${invoice.id}`;
    try {
      const live = await reader.get('mv_revenue_by_firm_quarter', key, { live: true });
      expect(Number(live.data?.total_revenue)).toBeCloseTo(Number(before.data?.total_revenue) + 1000, 2);
      expect((await reader.get('mv_revenue_by_firm_quarter', key)).data).toEqual(before.data);
    } finally {
      await db.sql`UPDATE invoices SET paid_amount = paid_amount - 1000 WHERE id = ${invoice.id}`;
    }
  });
});
