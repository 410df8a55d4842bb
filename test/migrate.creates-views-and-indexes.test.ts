import { describe, expect, it } from 'vitest';
import { demoCatalog } from '../examples/demo/schema/catalog.js';
import { runCli } from './helpers/cli.js';
import { useTestDatabase } from './helpers/database.js';
import { indexesOf, relationSnapshot } from './helpers/schema-snapshot.js';

describe('mvfleet migrate on an empty database', () => {
  const db = useTestDatabase({ empty: true });

  it('creates every table, the eight views (six MVs, two tables) and their indexes; a second run changes nothing', async () => {
    const first = await runCli(['migrate'], { DATABASE_URL: db.url });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('applied 0000_init');

    const byStorage = (storage: 'materialized' | 'table') =>
      demoCatalog.views.filter((view) => view.storage === storage).map((view) => view.name).sort();
    expect(byStorage('materialized')).toHaveLength(6);
    expect(byStorage('table')).toEqual(['mv_revenue_by_project_month', 'tournament_analytics_summary']);

    const tables = await db.sql<{ tablename: string }[]>`
      SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`;
    expect(tables.map((t) => t.tablename)).toEqual(
      expect.arrayContaining(['tournaments', 'registrations', 'matches', 'prize_transactions', 'ahsp_referensi',
        'rincian_referensi', 'firms', 'projects', 'invoices', 'time_entries', 'expenses', 'budget_versions',
        'classes', 'enrollments', 'teacher_allocations', 'budget_lines', ...byStorage('table')]),
    );
    // mvfleet's own tables live in its schema, never in the app's.
    expect(tables.map((t) => t.tablename)).not.toContain('mv_refresh_log');
    const engine = await db.sql<{ tablename: string }[]>`
      SELECT tablename FROM pg_tables WHERE schemaname = 'mvfleet' ORDER BY tablename`;
    expect(engine.map((t) => t.tablename)).toEqual(['mv_dirty_keys', 'mv_pending_requests', 'mv_refresh_log', 'mv_refresh_totals', 'mv_table_state', 'schema_migrations']);

    const views = await db.sql<{ matviewname: string; ispopulated: boolean }[]>`
      SELECT matviewname, ispopulated FROM pg_matviews WHERE schemaname = 'public' ORDER BY matviewname`;
    expect(views.map((v) => v.matviewname)).toEqual(byStorage('materialized'));
    expect(views.every((v) => !v.ispopulated)).toBe(true);
    // A table is created empty; until the fleet builds it, mvfleet.mv_table_state does not count it as populated.
    const populatedTables = await db.sql`SELECT view_name FROM mvfleet.mv_table_state`;
    expect(populatedTables).toEqual([]);
    for (const table of byStorage('table')) {
      const [{ count }] = await db.sql<[{ count: number }]>`SELECT count(*)::int AS count FROM ${db.sql(table)}`;
      expect(count, table).toBe(0);
    }

    for (const view of demoCatalog.views) {
      const indexes = await indexesOf(db.sql, view.name);
      const expected = view.indexes.map((spec) => `${spec.name}(${spec.columns.join(', ')})${spec.unique ? ' unique' : ''}`);
      expect(indexes, view.name).toEqual(expected.sort());
      const [unique] = await db.sql`
        SELECT indexname FROM pg_indexes WHERE tablename = ${view.name} AND indexdef LIKE 'CREATE UNIQUE INDEX%'`;
      expect(unique?.indexname, `${view.name} unique index in pg_indexes`).toBe(`${view.name}_key`);
    }

    const before = await relationSnapshot(db.sql);
    const second = await runCli(['migrate'], { DATABASE_URL: db.url });
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('is up to date');
    expect(await relationSnapshot(db.sql)).toEqual(before);
  });
});
