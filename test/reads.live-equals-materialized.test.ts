import { beforeAll, describe, expect, it } from 'vitest';
import type { CatalogView } from '../src/catalog/catalog.js';
import { quoteIdent } from '../src/core/identifiers.js';
import { createReader, type Reader, type ViewRow } from '../src/reads/index.js';
import { demoCatalog } from '../examples/demo/schema/catalog.js';
import { seedDemo } from '../examples/demo/seed/index.js';
import { createRefreshExecutor } from '../src/workers/refresh-executor.js';
import { useTestDatabase } from './helpers/database.js';

/** Accepts any MV age, so `source` says which path answered rather than how fresh the MV is. */
const ANY_AGE = { maxAgeMinutes: Number.POSITIVE_INFINITY };

/** Each value with its JS type, so '1.50' vs 1.5 or a Date vs a string cannot compare equal. */
function typed(row: ViewRow | null): [string, string, unknown][] | null {
  if (row === null) return null;
  return Object.entries(row).map(([column, value]) => [
    column,
    value === null ? 'null' : value instanceof Date ? 'Date' : typeof value,
    value instanceof Date ? value.toISOString() : value,
  ]);
}

/** The first, middle and last key of the view, and one row with a NULL column if there is one. */
async function sampleKeys(reader: Reader, view: CatalogView): Promise<Record<string, unknown>[]> {
  const { data } = await reader.list(view.name, {}, { ...ANY_AGE, limit: 100_000 });
  const picks = [data[0], data[Math.floor(data.length / 2)], data.at(-1), data.find((row) => Object.values(row).includes(null))];
  return picks
    .filter((row): row is ViewRow => row !== undefined)
    .map((row) => Object.fromEntries(view.uniqueKey.map((column) => [column, row[column]])));
}

describe('live reads equal materialized reads right after a refresh', () => {
  const db = useTestDatabase();
  let reader: Reader;

  beforeAll(async () => {
    await seedDemo({ sql: db.sql, scale: 'small' });
    const executor = createRefreshExecutor({ sql: db.sql, catalog: demoCatalog });
    for (const view of demoCatalog.views) await executor.refresh({ view: view.name, reason: 'manual' });
    reader = createReader({ sql: db.sql, catalog: demoCatalog });
  });

  it.each(demoCatalog.views.map((view) => [view.name, view] as const))(
    '%s: the same row, column by column, for sampled keys',
    async (_name, view) => {
      const keys = await sampleKeys(reader, view);
      expect(keys.length).toBeGreaterThanOrEqual(3);
      for (const key of keys) {
        const materialized = await reader.get(view.name, key, ANY_AGE);
        const live = await reader.get(view.name, key, { live: true });
        expect(materialized.cache.source).toBe('materialized');
        expect(live.cache.source).toBe('live');
        expect(materialized.data, JSON.stringify(key)).not.toBeNull();
        expect(typed(live.data), JSON.stringify(key)).toEqual(typed(materialized.data));
        expect(Object.keys(live.data!)).toEqual(view.columns);
      }
    },
  );

  it.each(demoCatalog.views.map((view) => [view.name, view] as const))('%s: the whole view, live, equals the MV', async (_name, view) => {
    const [{ count }] = await db.sql.unsafe<[{ count: number }]>(`SELECT count(*)::int AS count FROM ${quoteIdent(view.name)}`);
    const materialized = await reader.list(view.name, {}, { ...ANY_AGE, limit: 100_000 });
    const live = await reader.list(view.name, {}, { live: true, limit: 100_000 });
    expect(materialized.data).toHaveLength(count);
    expect(live.data.map(typed)).toEqual(materialized.data.map(typed));
  });

  it('answers a missing key with null on both paths', async () => {
    const materialized = await reader.get('tournament_analytics_summary', 999_999, ANY_AGE);
    const live = await reader.get('tournament_analytics_summary', 999_999, { live: true });
    expect([materialized.data, live.data]).toEqual([null, null]);
    expect([materialized.cache.source, live.cache.source]).toEqual(['materialized', 'live']);
  });

  it('lists by a non-key filter, a NULL filter and a custom order the same way on both paths', async () => {
    const [some] = await db.sql<[{ firm_id: number; month: Date }]>`
      SELECT firm_id, month FROM mv_revenue_by_project_month WHERE client_id IS NULL LIMIT 1`;
    const month = some.month.toISOString().slice(0, 10);
    const filters = [
      { firm_id: some.firm_id, month },
      { firm_id: some.firm_id, client_id: null },
    ];
    for (const filter of filters) {
      const options = { orderBy: [{ column: 'gross_margin', direction: 'desc' as const }], limit: 5 };
      const materialized = await reader.list('mv_revenue_by_project_month', filter, { ...options, ...ANY_AGE });
      const live = await reader.list('mv_revenue_by_project_month', filter, { ...options, live: true });
      expect(materialized.data.length).toBeGreaterThan(0);
      expect(materialized.data.length).toBeLessThanOrEqual(5);
      expect(live.data.map(typed)).toEqual(materialized.data.map(typed));
      for (const row of materialized.data) expect(row).toMatchObject(filter);
      const margins = materialized.data.map((row) => Number(row.gross_margin));
      expect(margins).toEqual([...margins].sort((a, b) => b - a));
    }
  });
});
