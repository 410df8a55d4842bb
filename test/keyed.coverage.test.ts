import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import type { KeyedDefinition } from '../src/catalog/catalog.js';
import { recordDirtyKeys } from '../src/store/pending-requests.js';
import { createReader } from '../src/reads/reader.js';
import { demoCatalog, demoViewDefinitions } from '../examples/demo/schema/catalog.js';
import { tournamentAnalyticsSummary } from '../examples/demo/schema/index.js';
import { seedDemo } from '../examples/demo/seed/index.js';
import { createRefreshExecutor } from '../src/workers/refresh-executor.js';
import { verifyView } from '../src/workers/verify-view.js';
import { demoCatalogWith } from './helpers/catalog.js';
import { useTestDatabase } from './helpers/database.js';
import { viewAndReference } from './helpers/reference-views.js';

const VIEW = 'tournament_analytics_summary';
const REVENUE = 'mv_revenue_by_project_month';
const LONG_AGO = new Date('2020-01-01T00:00:00Z');

/** When a key request counts as covered, and what a refresh does with keys it cannot use. */
describe('keyed refresh coverage', () => {
  const db = useTestDatabase();
  const executor = () => createRefreshExecutor({ sql: db.sql, catalog: demoCatalog });
  const dirtyCount = async () => (await db.sql<[{ n: number }]>`SELECT count(*)::int AS n FROM mvfleet.mv_dirty_keys`)[0].n;

  beforeAll(async () => {
    await seedDemo({ sql: db.sql, scale: 'small' });
    for (const view of [VIEW, REVENUE]) await executor().refresh({ view, reason: 'manual' });
  });

  it('a key request runs while keys wait, however old its requestedAt (a waiting job absorbs later requests)', async () => {
    await db.sql`UPDATE tournaments SET prize_pool = prize_pool + 1 WHERE id = 4`;
    await recordDirtyKeys(db.sql, demoCatalog.store, 'prize.paid', [{ view: VIEW, key: [4] }]);
    const ran = await executor().refresh({ view: VIEW, reason: 'event', scope: 'keys', requestedAt: LONG_AGO });
    expect(ran).toMatchObject({ status: 'success', strategy: 'targeted', keysRefreshed: 1 });
    expect(await dirtyCount()).toBe(0);
    expect((await verifyView(db.sql, demoCatalog.store, demoCatalog.get(VIEW))).differences).toBe(0);

    // Nothing waits any more: the same request is covered by that refresh.
    const again = await executor().refresh({ view: VIEW, reason: 'event', scope: 'keys', requestedAt: LONG_AGO });
    expect(again.status).toBe('skipped');
  });

  it('malformed dirty keys are dropped and the view is rebuilt whole, instead of failing every refresh', async () => {
    await db.sql`UPDATE invoices SET paid_amount = paid_amount + 5 WHERE id = (SELECT min(id) FROM invoices WHERE status = 'paid' AND paid_on IS NOT NULL)`;
    // An older producer's scope ([project_id] only), a wrong type, and a non-array.
    await db.sql`INSERT INTO mvfleet.mv_dirty_keys (view_name, key) VALUES
      (${REVENUE}, '[1]'::jsonb), (${REVENUE}, '["one", "2026-03-01"]'::jsonb), (${REVENUE}, '{"project_id": 1}'::jsonb)`;
    const outcome = await executor().refresh({ view: REVENUE, reason: 'event', scope: 'keys' });
    expect(outcome).toMatchObject({ status: 'success', strategy: 'full', keysRefreshed: 0 });
    expect(await dirtyCount()).toBe(0);
    const { actual, expected } = await viewAndReference(db.sql, demoCatalog.get(REVENUE));
    expect(actual).toEqual(expected);
  });

  it('a table built from another definition counts as unpopulated: reads go live, the next refresh rebuilds it whole', async () => {
    const keyed = demoViewDefinitions.find((definition) => definition.view === tournamentAnalyticsSummary)!.keyed!;
    const redefined: KeyedDefinition = { ...keyed, query: (keys) => sql`SELECT * FROM (${keyed.query(keys)}) AS v2` };
    const catalog = demoCatalogWith({ [VIEW]: { keyed: redefined } });
    expect(catalog.get(VIEW).fingerprint).not.toBe(demoCatalog.get(VIEW).fingerprint);

    const reader = createReader({ sql: db.sql, catalog, freshnessCacheMs: 0 });
    expect((await reader.get(VIEW, 4)).cache.source).toBe('live');
    await expect(verifyView(db.sql, catalog.store, catalog.get(VIEW))).rejects.toThrow(/not populated yet/);

    await recordDirtyKeys(db.sql, demoCatalog.store, 'prize.paid', [{ view: VIEW, key: [4] }]);
    const rebuilt = await createRefreshExecutor({ sql: db.sql, catalog }).refresh({ view: VIEW, reason: 'event', scope: 'keys' });
    // A first build of this definition: whole, and nothing counted as drift.
    expect(rebuilt).toMatchObject({ status: 'success', strategy: 'full', rowsCorrected: null });
    expect((await reader.get(VIEW, 4)).cache.source).toBe('materialized');
    // The original catalog's fingerprint no longer matches the build: it sees the table as unpopulated.
    expect((await createReader({ sql: db.sql, catalog: demoCatalog, freshnessCacheMs: 0 }).get(VIEW, 4)).cache.source).toBe('live');
    await reader.close();
  });
});
