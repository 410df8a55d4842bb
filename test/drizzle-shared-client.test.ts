import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoCatalog } from '../examples/demo/schema/catalog.js';
import { seedDemo } from '../examples/demo/seed/index.js';
import type { Sql } from '../src/core/db.js';
import { readPendingKeys } from '../src/dashboards/pending-keys.js';
import { readRecentDurations } from '../src/dashboards/recent-durations.js';
import { readLastSuccessAges, readRefreshLogBuckets, readRefreshStrategyTotals } from '../src/dashboards/refresh-log-totals.js';
import { readRefreshLogs } from '../src/dashboards/refresh-logs.js';
import { readRefreshStats } from '../src/dashboards/refresh-stats.js';
import { readViewStatuses, type ViewStatus } from '../src/dashboards/view-status.js';
import { createProducer } from '../src/producers/producer.js';
import { createReader } from '../src/reads/index.js';
import { createRefreshExecutor, type RefreshOutcome } from '../src/workers/refresh-executor.js';
import { createWorker } from '../src/workers/refresh-worker.js';
import { verifyView } from '../src/workers/verify-view.js';
import { useTestDatabase } from './helpers/database.js';
import { useTestQueue } from './helpers/queue-backend.js';

const TOURNAMENTS = 'tournament_analytics_summary';
const REVENUE = 'mv_revenue_by_project_month';
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * An app hands mvfleet the postgres.js client it also uses with Drizzle. drizzle-orm's
 * postgres-js driver replaces that client's date parsers and serializers (timestamps come
 * back as text, Date parameters go out unserialised), and an app's client parses int8 as
 * text. Everything mvfleet returns must still be what it is through mvfleet's own client.
 */
describe('a postgres.js client shared with Drizzle', () => {
  const db = useTestDatabase();
  const backends = useTestQueue(db);
  let client: Sql;
  const store = demoCatalog.store;

  beforeAll(async () => {
    await seedDemo({ sql: db.sql, scale: 'small' });
    client = postgres(db.url, { max: 6, onnotice: () => {} });
    // As an app does before it hands the client to mvfleet: this replaces the client's parsers.
    drizzle({ client });
  });

  afterAll(async () => {
    await client?.end({ timeout: 5 });
  });

  const lastSuccessStart = async (view: string) =>
    (
      await db.sql<[{ started_at: Date }]>`
        SELECT started_at FROM mvfleet.mv_refresh_log WHERE view_name = ${view} AND status = 'success'
        ORDER BY started_at DESC LIMIT 1`
    )[0].started_at;

  const succeeded = (outcome: RefreshOutcome) => {
    if (outcome.status !== 'success') throw new Error(`refresh of ${outcome.view}: ${outcome.status}`);
    return outcome;
  };

  it('really is a client whose timestamps come back as text and whose int8 is text', async () => {
    const [row] = await client<[{ now: unknown; big: unknown }]>`SELECT now() AS now, 1::int8 AS big`;
    expect(typeof row.now).toBe('string');
    expect(row.big).toBe('1');
  });

  it('refreshes every view through the executor, with numbers and Dates in outcomes', async () => {
    const executor = createRefreshExecutor({ sql: client, catalog: demoCatalog });
    for (const view of demoCatalog.views) {
      const outcome = succeeded(await executor.refresh({ view: view.name, reason: 'manual' }));
      const [{ count }] = await db.sql.unsafe<[{ count: number }]>(`SELECT count(*)::int AS count FROM "${view.name}"`);
      expect(outcome).toMatchObject({ logId: expect.any(Number), durationMs: expect.any(Number), rowsAfter: count });
      expect(outcome.startedAt).toEqual(await lastSuccessStart(view.name));
    }
  });

  it('runs targeted refreshes of integer and date keys, and skips a request a refresh already covered', async () => {
    const producer = createProducer({ catalog: demoCatalog, backend: backends.isolated('targeted'), sql: client });
    const [tournament] = await db.sql<[{ id: number }]>`
      SELECT t.id FROM tournaments t WHERE EXISTS (SELECT FROM matches m WHERE m.tournament_id = t.id) ORDER BY t.id LIMIT 1`;
    const [invoice] = await db.sql<[{ id: number; project_id: number; firm_id: number; paid_on: string; month: string }]>`
      SELECT i.id, i.project_id, p.firm_id, i.paid_on::text AS paid_on, date_trunc('month', i.paid_on::timestamp)::date::text AS month
      FROM invoices i JOIN projects p ON p.id = i.project_id
      WHERE i.status = 'paid' AND i.paid_on IS NOT NULL ORDER BY i.id LIMIT 1`;
    await db.sql`
      INSERT INTO matches (tournament_id, round, state, started_at, completed_at)
      VALUES (${tournament.id}, 9, 'completed', now() - interval '30 minutes', now())`;
    await db.sql`UPDATE invoices SET paid_amount = paid_amount + 1000 WHERE id = ${invoice.id}`;
    await producer.emit('match.completed', { tournamentId: tournament.id });
    await producer.emit('invoice.paid', { firmId: invoice.firm_id, projectId: invoice.project_id, paidOn: invoice.paid_on });
    await producer.close();

    const executor = createRefreshExecutor({ sql: client, catalog: demoCatalog });
    for (const view of [TOURNAMENTS, REVENUE]) {
      const before = (await readViewStatuses(db.sql, demoCatalog)).find((status) => status.view === view)!;
      const outcome = succeeded(await executor.refresh({ view, reason: 'event', scope: 'keys' }));
      expect(outcome).toMatchObject({ strategy: 'targeted', keysRefreshed: 1, rowsAfter: before.rows });
      // The stored rows equal the definition computed now: the touched keys were recomputed.
      expect(await verifyView(client, store, demoCatalog.get(view))).toMatchObject({ rows: before.rows, differences: 0 });

      const covered = await executor.refresh({
        view,
        reason: 'event',
        scope: 'keys',
        requestedAt: new Date(outcome.startedAt.getTime() - 5_000),
      });
      expect(covered).toEqual({ status: 'skipped', logId: expect.any(Number), view, coveredBy: outcome.startedAt });
    }
  });

  it('reads rows and cache.as_of exactly as through mvfleet’s own client', async () => {
    // One clock for both readers: age_minutes is then the same whenever each read runs.
    const readAt = new Date();
    const now = () => readAt;
    const shared = createReader({ sql: client, catalog: demoCatalog, freshnessCacheMs: 0, now });
    const own = createReader({ sql: db.sql, catalog: demoCatalog, freshnessCacheMs: 0, now });
    const [tournament] = await db.sql<[{ tournament_id: number }]>`
      SELECT tournament_id FROM tournament_analytics_summary WHERE started_at IS NOT NULL ORDER BY tournament_id LIMIT 1`;
    const [revenue] = await db.sql<[{ project_id: number; month: string }]>`
      SELECT project_id, month::text AS month FROM mv_revenue_by_project_month ORDER BY project_id, month LIMIT 1`;

    const row = await shared.get(TOURNAMENTS, tournament.tournament_id);
    expect(row.cache).toEqual({
      source: 'materialized',
      as_of: (await lastSuccessStart(TOURNAMENTS)).toISOString(),
      age_minutes: expect.any(Number),
    });
    expect(row.data!.started_at).toBeInstanceOf(Date);
    expect(row).toEqual(await own.get(TOURNAMENTS, tournament.tournament_id));
    // A Date as a filter value of a timestamptz column.
    const sameStart = await shared.list(TOURNAMENTS, { started_at: row.data!.started_at });
    expect(sameStart.data.map((found) => found.tournament_id)).toContain(tournament.tournament_id);
    expect(sameStart).toEqual(await own.list(TOURNAMENTS, { started_at: row.data!.started_at }));

    const keyed = await shared.get(REVENUE, revenue);
    expect(keyed.cache).toEqual({ source: 'materialized', as_of: (await lastSuccessStart(REVENUE)).toISOString(), age_minutes: expect.any(Number) });
    expect(keyed.data!.month).toBe(revenue.month);
    expect(keyed).toEqual(await own.get(REVENUE, revenue));
    expect((await shared.get(REVENUE, revenue, { live: true })).data).toEqual(keyed.data);
    await shared.close();
    await own.close();
  });

  it('emit(...).waitUntilFresh() resolves with the refresh that made the view fresh', async () => {
    const worker = createWorker({ backend: backends.backend(), sql: client, catalog: demoCatalog });
    const producer = createProducer({ catalog: demoCatalog, backend: backends.backend('producer'), sql: client });
    try {
      await worker.ready();
      const handle = await producer.emit('tournament.finalized', { tournamentId: 1 });
      const results = await handle.waitUntilFresh({ timeoutMs: 15_000 });
      const result = results[TOURNAMENTS]!;
      expect(result).toEqual({
        status: 'success',
        logId: expect.any(Number),
        startedAt: expect.any(Date),
        durationMs: expect.any(Number),
        mode: 'concurrent',
      });
      if (result.status !== 'success') return;
      expect(result.startedAt.getTime()).toBeGreaterThanOrEqual(handle.requestedAt.getTime());
      const [logged] = await db.sql<[{ status: string; started_at: Date }]>`
        SELECT status, started_at FROM mvfleet.mv_refresh_log WHERE id = ${result.logId}`;
      expect(logged).toEqual({ status: 'success', started_at: result.startedAt });
    } finally {
      await worker.close();
      await producer.close();
    }
  });

  it('reads view statuses, the log, stats and metric totals exactly as through mvfleet’s own client', async () => {
    const views = demoCatalog.views.map((view) => view.name);
    const withoutAge = (statuses: ViewStatus[]) => statuses.map(({ age_seconds: _age, ...status }) => status);
    const statuses = await readViewStatuses(client, demoCatalog);
    expect(withoutAge(statuses)).toEqual(withoutAge(await readViewStatuses(db.sql, demoCatalog)));
    const tournaments = statuses.find((status) => status.view === TOURNAMENTS)!;
    expect(tournaments).toMatchObject({
      populated: true,
      rows: expect.any(Number),
      size_bytes: expect.any(Number),
      as_of: expect.stringMatching(ISO),
      last_refresh_at: expect.stringMatching(ISO),
      age_seconds: expect.any(Number),
      keys_refreshed: expect.any(Number),
      last_duration_ms: expect.any(Number),
      stale: false,
    });

    const logs = await readRefreshLogs(client, store, { limit: 100 });
    expect(logs).toEqual(await readRefreshLogs(db.sql, store, { limit: 100 }));
    expect(logs.find((entry) => entry.view_name === TOURNAMENTS && entry.status === 'success')).toMatchObject({
      id: expect.any(Number),
      started_at: expect.stringMatching(ISO),
      finished_at: expect.stringMatching(ISO),
      rows_after: tournaments.rows,
    });

    expect(await readRefreshStats(client, demoCatalog, 7)).toEqual(await readRefreshStats(db.sql, demoCatalog, 7));
    const durations = await readRecentDurations(client, store, views, 10);
    expect(durations).toEqual(await readRecentDurations(db.sql, store, views, 10));
    expect(durations.get(TOURNAMENTS)![0]!.started_at).toBeInstanceOf(Date);
    expect(await readRefreshLogBuckets(client, store)).toEqual(await readRefreshLogBuckets(db.sql, store));
    expect(await readRefreshStrategyTotals(client, store)).toEqual(await readRefreshStrategyTotals(db.sql, store));
    expect(await readPendingKeys(client, store)).toEqual(await readPendingKeys(db.sql, store));
    const ages = await readLastSuccessAges(client, store, views);
    expect(ages.map((age) => [age.view, typeof age.age_seconds])).toEqual(views.map((view) => [view, 'number']));
  });
});
