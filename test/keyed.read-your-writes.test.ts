import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoProducer, type DemoProducer } from '../examples/demo/producer.js';
import { createReader, type Reader } from '../src/reads/index.js';
import { demoCatalog } from '../examples/demo/schema/catalog.js';
import { seedDemo } from '../examples/demo/seed/index.js';
import { createRefreshExecutor } from '../src/workers/refresh-executor.js';
import { useTestDatabase } from './helpers/database.js';
import { useTestQueue } from './helpers/queue-backend.js';

const TOURNAMENTS = 'tournament_analytics_summary';
const REVENUE = 'mv_revenue_by_project_month';

describe('a key an event touched reads live until its targeted refresh', () => {
  const db = useTestDatabase();
  const backends = useTestQueue(db);
  const registry = new Registry();
  let fleet: DemoProducer;
  let reader: Reader;

  beforeAll(async () => {
    await seedDemo({ sql: db.sql, scale: 'small' });
    const executor = createRefreshExecutor({ sql: db.sql, catalog: demoCatalog });
    for (const view of [TOURNAMENTS, REVENUE]) {
      const outcome = await executor.refresh({ view, reason: 'manual' });
      if (outcome.status !== 'success') throw new Error(`refresh of ${view}: ${outcome.status}`);
    }
    // The producer records keys and enqueues; no worker runs, so only the refreshes below apply them.
    fleet = createDemoProducer({ backend: backends.backend('producer'), sql: db.sql });
    reader = createReader({ sql: db.sql, catalog: demoCatalog, freshnessCacheMs: 0, registry });
  });

  afterAll(async () => {
    await fleet?.close();
    await reader?.close();
  });

  /** The refresh-log row of a refresh. */
  const logRow = async (id: number) =>
    (
      await db.sql<{ status: string; strategy: string; keys_refreshed: number | null; rows_corrected: number | null }[]>`
        SELECT status, strategy, keys_refreshed, rows_corrected FROM mvfleet.mv_refresh_log WHERE id = ${id}`
    )[0];

  const pendingKeys = async (view: string) =>
    (await db.sql<{ key: unknown }[]>`SELECT key FROM mvfleet.mv_dirty_keys WHERE view_name = ${view} ORDER BY id`).map((row) => row.key);

  it('tournament: live_pending with the new values, other keys materialized, then materialized after a targeted refresh', async () => {
    const [touched, other] = await db.sql<{ id: number }[]>`
      SELECT t.id FROM tournaments t WHERE EXISTS (SELECT FROM matches m WHERE m.tournament_id = t.id) ORDER BY t.id LIMIT 2`;
    const before = (await reader.get(TOURNAMENTS, touched!.id)).data!;
    const otherBefore = (await reader.get(TOURNAMENTS, other!.id)).data!;

    await db.sql`
      INSERT INTO matches (tournament_id, round, state, started_at, completed_at)
      VALUES (${touched!.id}, 9, 'completed', now() - interval '30 minutes', now())`;
    await fleet.matchCompleted({ tournamentId: touched!.id });
    expect(await pendingKeys(TOURNAMENTS)).toEqual([[touched!.id]]);

    const pending = await reader.get(TOURNAMENTS, touched!.id);
    expect(pending.cache).toMatchObject({ source: 'live_pending', age_minutes: 0 });
    expect(pending.data).toMatchObject({ total_matches: Number(before.total_matches) + 1, completed_matches: Number(before.completed_matches) + 1 });
    // The stored row is still the old one: the live answer did not come from a refresh.
    const [stored] = await db.sql`SELECT total_matches FROM tournament_analytics_summary WHERE tournament_id = ${touched!.id}`;
    expect(stored!.total_matches).toBe(before.total_matches);

    const untouched = await reader.get(TOURNAMENTS, other!.id);
    expect(untouched.cache.source).toBe('materialized');
    expect(untouched.data).toEqual(otherBefore);
    expect((await reader.get(TOURNAMENTS, touched!.id, { live: true })).cache.source).toBe('live');

    const outcome = await createRefreshExecutor({ sql: db.sql, catalog: demoCatalog }).refresh({
      view: TOURNAMENTS,
      reason: 'event',
      scope: 'keys',
    });
    expect(outcome).toMatchObject({ status: 'success', strategy: 'targeted', keysRefreshed: 1 });
    if (outcome.status !== 'success') return;
    expect(await logRow(outcome.logId)).toEqual({ status: 'success', strategy: 'targeted', keys_refreshed: 1, rows_corrected: null });
    expect(await pendingKeys(TOURNAMENTS)).toEqual([]);

    const refreshed = await reader.get(TOURNAMENTS, touched!.id);
    expect(refreshed.cache.source).toBe('materialized');
    expect(refreshed.data).toEqual(pending.data);
    expect((await reader.get(TOURNAMENTS, touched!.id, { live: true })).cache.source).toBe('live');
  });

  it('revenue: the same for an object key { project_id, month }', async () => {
    const [invoice] = await db.sql<{ id: number; project_id: number; firm_id: number; paid_on: string; month: string }[]>`
      SELECT i.id, i.project_id, p.firm_id, i.paid_on::text AS paid_on, date_trunc('month', i.paid_on::timestamp)::date::text AS month
      FROM invoices i JOIN projects p ON p.id = i.project_id
      WHERE i.status = 'paid' AND i.paid_on IS NOT NULL ORDER BY i.id LIMIT 1`;
    const key = { project_id: invoice!.project_id, month: invoice!.month };
    const [neighbour] = await db.sql<{ project_id: number; month: string }[]>`
      SELECT project_id, month::text AS month FROM mv_revenue_by_project_month
      WHERE project_id = ${key.project_id} AND month <> ${key.month} ORDER BY month LIMIT 1`;
    const before = (await reader.get(REVENUE, key)).data!;

    await db.sql`UPDATE invoices SET paid_amount = paid_amount + 1000 WHERE id = ${invoice!.id}`;
    await fleet.invoicePaid({ firmId: invoice!.firm_id, projectId: invoice!.project_id, paidOn: invoice!.paid_on });
    expect(await pendingKeys(REVENUE)).toEqual([[key.project_id, key.month]]);

    const pending = await reader.get(REVENUE, key);
    expect(pending.cache.source).toBe('live_pending');
    expect(Number(pending.data!.total_revenue)).toBeCloseTo(Number(before.total_revenue) + 1000, 2);
    expect(Number(pending.data!.gross_margin)).toBeCloseTo(Number(before.gross_margin) + 1000, 2);
    // Same project, another month: not touched, so read from the table.
    expect((await reader.get(REVENUE, neighbour!)).cache.source).toBe('materialized');
    expect((await reader.get(REVENUE, key, { live: true })).cache.source).toBe('live');

    const outcome = await createRefreshExecutor({ sql: db.sql, catalog: demoCatalog }).refresh({
      view: REVENUE,
      reason: 'event',
      scope: 'keys',
    });
    expect(outcome).toMatchObject({ status: 'success', strategy: 'targeted', keysRefreshed: 1 });
    if (outcome.status !== 'success') return;
    expect(await logRow(outcome.logId)).toEqual({ status: 'success', strategy: 'targeted', keys_refreshed: 1, rows_corrected: null });

    const refreshed = await reader.get(REVENUE, key);
    expect(refreshed.cache.source).toBe('materialized');
    expect(refreshed.data).toEqual(pending.data);
  });

  it('counts live_pending answers in mvfleet_reads_total', async () => {
    const { values } = await registry.getSingleMetric('mvfleet_reads_total')!.get();
    const count = (view: string, source: string) =>
      values.find((value) => value.labels.view === view && value.labels.source === source)?.value ?? 0;
    expect(count(TOURNAMENTS, 'live_pending')).toBeGreaterThanOrEqual(1);
    expect(count(REVENUE, 'live_pending')).toBeGreaterThanOrEqual(1);
  });
});
