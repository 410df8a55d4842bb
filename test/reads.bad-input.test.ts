import { describe, expect, it } from 'vitest';
import { UnknownNameError } from '../src/catalog/catalog.js';
import type { Queryable } from '../src/core/db.js';
import { ConfigError } from '../src/core/errors.js';
import { createReader, InvalidReadError, type ListOptions, type RowFilter, type RowKey } from '../src/reads/index.js';
import { demoCatalog } from '../examples/demo/schema/catalog.js';
import { useTestDatabase } from './helpers/database.js';

/** The test database's client, counting every query sent through it. */
function countingSql(sql: Queryable): { sql: Queryable; queries: () => number } {
  let count = 0;
  const counted = new Proxy(sql, {
    apply(target, thisArg, args) {
      count++;
      return Reflect.apply(target as (...a: unknown[]) => unknown, thisArg, args);
    },
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (property !== 'unsafe' || typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        count++;
        return Reflect.apply(value, target, args);
      };
    },
  });
  return { sql: counted, queries: () => count };
}

const badKeys: [string, string, RowKey, RegExp][] = [
  ['a string for an integer key', 'tournament_analytics_summary', '7', /tournament_id must be an integer .*got string "7"/],
  ['a fraction', 'tournament_analytics_summary', 7.5, /tournament_id must be an integer/],
  ['an integer out of range', 'tournament_analytics_summary', 2 ** 31, /tournament_id must be an integer from/],
  ['an object with another column', 'tournament_analytics_summary', { id: 7 }, /missing tournament_id; id not part of the key/],
  ['a scalar for a composite key', 'mv_revenue_by_project_month', 7, /must be an object with project_id, month/],
  ['a composite key missing a part', 'mv_revenue_by_project_month', { project_id: 7 }, /missing month/],
  ['a composite key with an extra part', 'mv_revenue_by_project_month', { project_id: 7, month: '2026-03-01', firm_id: 1 }, /firm_id not part of the key/],
  ['a month that is not a date', 'mv_revenue_by_project_month', { project_id: 7, month: '2026-03' }, /month must be a date 'YYYY-MM-DD'/],
  ['a day that does not exist', 'mv_revenue_by_project_month', { project_id: 7, month: '2026-02-30' }, /month must be a date/],
  ['a null key part', 'mv_revenue_by_project_month', { project_id: null, month: '2026-03-01' }, /project_id must not be null/],
  ['a number for a text key', 'mv_budget_consolidation', { budget_version_id: 1, account_code: 6411 }, /account_code must be a string/],
];

const badFilters: [string, RowFilter, ListOptions, RegExp][] = [
  ['an unknown column', { firm: 1 }, {}, /unknown column firm \(columns: firm_id, project_id/],
  ['a string for an integer column', { firm_id: '1' }, {}, /firm_id must be an integer/],
  ['a non-numeric numeric value', { total_revenue: '12,50' }, {}, /total_revenue must be a finite number or a decimal string/],
  ['an unknown sort column', { firm_id: 1 }, { orderBy: 'revenue' }, /orderBy .*unknown column revenue/],
  ['a zero limit', { firm_id: 1 }, { limit: 0 }, /limit must be an integer from 1 to 100000 \(got 0\)/],
  ['a negative maxAgeMinutes', { firm_id: 1 }, { maxAgeMinutes: -1 }, /maxAgeMinutes must be a number >= 0 \(got -1\)/],
  ['a NaN maxAgeMinutes', { firm_id: 1 }, { maxAgeMinutes: Number.NaN }, /maxAgeMinutes must be a number >= 0 \(got NaN\)/],
];

describe('bad reads fail before any query is sent', () => {
  const db = useTestDatabase({ max: 2 });
  const setup = () => {
    const counter = countingSql(db.sql);
    return { ...counter, reader: createReader({ sql: counter.sql, catalog: demoCatalog }) };
  };

  it('counts the queries of a good read (the spy works)', async () => {
    const { reader, queries } = setup();
    await reader.get('tournament_analytics_summary', 1);
    expect(queries()).toBeGreaterThan(0);
  });

  it('refuses an unknown view, listing the known ones', async () => {
    const { reader, queries } = setup();
    await expect(reader.get('tournament_analytics', 1)).rejects.toThrow(UnknownNameError);
    await expect(reader.list('x"; DROP TABLE tournaments; --', {})).rejects.toThrow(/unknown view .*known: tournament_analytics_summary/);
    expect(queries()).toBe(0);
  });

  it.each(badKeys)('refuses %s', async (_case, view, key, message) => {
    const { reader, queries } = setup();
    const failure = reader.get(view, key);
    await expect(failure).rejects.toThrow(InvalidReadError);
    await expect(failure).rejects.toThrow(message);
    expect(queries()).toBe(0);
  });

  it.each(badFilters)('refuses a list with %s', async (_case, filter, options, message) => {
    const { reader, queries } = setup();
    const failure = reader.list('mv_revenue_by_project_month', filter, options);
    await expect(failure).rejects.toThrow(InvalidReadError);
    await expect(failure).rejects.toThrow(message);
    expect(queries()).toBe(0);
  });

  it('refuses reads after close()', async () => {
    const { reader, queries } = setup();
    await reader.close();
    await expect(reader.get('tournament_analytics_summary', 1)).rejects.toThrow(/reader is closed/);
    expect(queries()).toBe(0);
  });

  it('validates reader options, naming each bad one', () => {
    const base = { sql: db.sql, catalog: demoCatalog };
    expect(() => createReader({ ...base, freshnessCacheMs: -5 })).toThrow(/freshnessCacheMs must be a number >= 0 \(got -5\)/);
    expect(() => createReader({ ...base, freshnessCacheMs: Number.NaN })).toThrow(ConfigError);
    expect(() => createReader({ ...base, now: 'soon' as unknown as () => Date })).toThrow(/now must be a function/);
    expect(() => createReader({ catalog: demoCatalog } as never)).toThrow(/sql must be a postgres.js client/);
    expect(() => createReader({ sql: db.sql } as never)).toThrow(/catalog must be a Catalog/);
  });
});
