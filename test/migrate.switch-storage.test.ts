import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { pgMaterializedView } from 'drizzle-orm/pg-core';
import { createCatalog, type Catalog } from '../src/catalog/catalog.js';
import { wholeView } from '../src/catalog/key-scope.js';
import { recordDirtyKeys } from '../src/store/pending-requests.js';
import { migrate } from '../src/migrate/migrate.js';
import { demoMigrationsFolder, demoMigrationsThrough } from './helpers/catalog.js';
import { demoCatalog, demoViewDefinitions } from '../examples/demo/schema/catalog.js';
import { demoEvents } from '../examples/demo/schema/events.js';
import { revenueByProjectMonthColumns, revenueByProjectMonthQuery } from '../examples/demo/schema/views/revenue-by-project-month.js';
import { tournamentAnalyticsColumns, tournamentAnalyticsQuery } from '../examples/demo/schema/views/tournament-analytics-summary.js';
import { seedDemo } from '../examples/demo/seed/index.js';
import { createRefreshExecutor } from '../src/workers/refresh-executor.js';
import { useTestDatabase } from './helpers/database.js';
import { viewAndReference } from './helpers/reference-views.js';

/** The demo catalog as it was before the keyed views became tables: the same keyed views, stored as MVs. */
function catalogWithKeyedMvs(): Catalog {
  const asMv = {
    tournament_analytics_summary: pgMaterializedView('tournament_analytics_summary', tournamentAnalyticsColumns())
      .withNoData()
      .as(tournamentAnalyticsQuery(wholeView)),
    mv_revenue_by_project_month: pgMaterializedView('mv_revenue_by_project_month', revenueByProjectMonthColumns())
      .withNoData()
      .as(revenueByProjectMonthQuery(wholeView)),
  } as const;
  const views = demoViewDefinitions.map((definition) => {
    const name = demoCatalog.views.find((view) => view.view === definition.view)!.name;
    return name in asMv ? { ...definition, view: asMv[name as keyof typeof asMv] } : definition;
  });
  return createCatalog({ events: demoEvents, views });
}

const relkind = async (db: ReturnType<typeof useTestDatabase>, name: string) => {
  const [row] = await db.sql<[{ kind: string | null }]>`SELECT (SELECT relkind::text FROM pg_class WHERE oid = to_regclass(${name})) AS kind`;
  return row.kind;
};

describe('switching keyed views from MV to table storage is a migration', () => {
  const db = useTestDatabase({ empty: true });
  const folders: string[] = [];
  afterAll(async () => {
    for (const folder of folders) await rm(folder, { recursive: true, force: true });
  });

  it('keyed MVs refresh whole and drain their keys; the migration swaps in tables that the fleet then builds exactly', async () => {
    const before = await demoMigrationsThrough('0001_revenue_view_inline_ctes');
    folders.push(before);
    const oldCatalog = catalogWithKeyedMvs();
    await migrate({ sql: db.sql, catalog: oldCatalog, migrationsFolder: before });
    expect(await relkind(db, 'tournament_analytics_summary')).toBe('m');
    await seedDemo({ sql: db.sql, scale: 'small' });

    const oldExecutor = createRefreshExecutor({ sql: db.sql, catalog: oldCatalog });
    for (const view of oldCatalog.views) await oldExecutor.refresh({ view: view.name, reason: 'manual' });
    await recordDirtyKeys(db.sql, demoCatalog.store, 'match.completed', [{ view: 'tournament_analytics_summary', key: [7] }]);
    const keyedMv = await oldExecutor.refresh({ view: 'tournament_analytics_summary', reason: 'event', scope: 'keys' });
    expect(keyedMv).toMatchObject({ status: 'success', strategy: 'full', mode: 'concurrent', keysRefreshed: 1 });
    const [left] = await db.sql`SELECT count(*)::int AS n FROM mvfleet.mv_dirty_keys`;
    expect(left!.n).toBe(0);

    const result = await migrate({ sql: db.sql, catalog: demoCatalog, migrationsFolder: demoMigrationsFolder });
    expect(result.applied).toEqual(['0002_keyed_views', '0003_dirty_keys_autovacuum', '0004_engine_tables_leave_public']);
    const [queueTable] = await db.sql<[{ options: string[] }]>`SELECT reloptions AS options FROM pg_class WHERE oid = 'mvfleet.mv_dirty_keys'::regclass`;
    expect(queueTable.options).toEqual(expect.arrayContaining(['autovacuum_vacuum_threshold=5000', 'autovacuum_vacuum_scale_factor=0']));
    // The quarterly roll-up reads the revenue view: dropped with the MV, recreated on the table.
    expect(result.droppedDependants).toEqual(['mv_revenue_by_firm_quarter']);
    expect(result.createdViews).toEqual(['mv_revenue_by_firm_quarter']);
    expect(await relkind(db, 'tournament_analytics_summary')).toBe('r');
    expect(await relkind(db, 'mv_revenue_by_project_month')).toBe('r');
    expect(await relkind(db, 'mv_revenue_by_firm_quarter')).toBe('m');
    expect(result.createdIndexes).toEqual(
      expect.arrayContaining(['tournament_analytics_summary_key', 'mv_revenue_by_project_month_key']),
    );

    const executor = createRefreshExecutor({ sql: db.sql, catalog: demoCatalog });
    for (const view of demoCatalog.views) {
      const outcome = await executor.refresh({ view: view.name, reason: 'manual' });
      expect(outcome.status, view.name).toBe('success');
    }
    for (const view of demoCatalog.views) {
      const { actual, expected } = await viewAndReference(db.sql, view);
      expect(actual, view.name).toEqual(expected);
    }
    // A second migrate changes nothing; the MV-stored catalog is now refused with a clear message.
    expect(await migrate({ sql: db.sql, catalog: demoCatalog, migrationsFolder: demoMigrationsFolder })).toMatchObject({ applied: [], createdViews: [], createdIndexes: [] });
    await expect(migrate({ sql: db.sql, catalog: oldCatalog, migrationsFolder: demoMigrationsFolder })).rejects.toThrow(
      /tournament_analytics_summary is a table but the catalog stores it as a materialized view: generate the migration/,
    );
  }, 60_000);
});
