import { PgDialect } from 'drizzle-orm/pg-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CatalogView } from '../src/catalog/catalog.js';
import type { Sql } from '../src/core/db.js';
import { quoteIdent } from '../src/core/identifiers.js';
import { wholeView } from '../src/catalog/key-scope.js';
import { demoCatalog, demoViewDefinitions } from '../examples/demo/schema/catalog.js';
import { seedDemo } from '../examples/demo/seed/index.js';
import { createRefreshExecutor } from '../src/workers/refresh-executor.js';
import { useTestDatabase } from './helpers/database.js';

const TOURNAMENTS = demoCatalog.get('tournament_analytics_summary');
const REVENUE = demoCatalog.get('mv_revenue_by_project_month');

/** One node of an `EXPLAIN (FORMAT JSON)` plan. */
interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  Plans?: PlanNode[];
}

/** A read of a whole source table: what a key-restricted definition must never do. */
interface FullRead {
  table: string;
  node: string;
}

/**
 * Full reads of `sources` in a plan: any Seq Scan, and any index scan without an Index Cond
 * under an aggregate. With enable_seqscan off, PostgreSQL turns an unrestricted read that
 * feeds a GROUP BY into a full index scan in key order instead of a Seq Scan, so both count.
 */
function fullReads(node: PlanNode, sources: readonly string[], underAggregate = false): FullRead[] {
  const table = node['Relation Name'];
  const found: FullRead[] = [];
  if (table && sources.includes(table)) {
    const indexScan = node['Node Type'] === 'Index Scan' || node['Node Type'] === 'Index Only Scan';
    if (node['Node Type'] === 'Seq Scan' || (indexScan && underAggregate && !node['Index Cond'])) {
      found.push({ table, node: node['Node Type'] });
    }
  }
  const aggregate = underAggregate || node['Node Type'] === 'Aggregate';
  for (const child of node.Plans ?? []) found.push(...fullReads(child, sources, aggregate));
  return found;
}

/** Source tables the plan reads at all (so a check that finds nothing has looked somewhere). */
function tablesRead(node: PlanNode, sources: readonly string[]): Set<string> {
  const tables = new Set<string>();
  const visit = (current: PlanNode) => {
    const table = current['Relation Name'];
    if (table && sources.includes(table)) tables.add(table);
    for (const child of current.Plans ?? []) visit(child);
  };
  visit(node);
  return tables;
}

/** The plan PostgreSQL picks for `query` when it may only fall back to a Seq Scan if nothing else can answer. */
async function planWithoutSeqScans(sql: Sql, query: string, params: (string | number)[][]): Promise<PlanNode> {
  return sql.begin(async (tx) => {
    await tx`SET LOCAL enable_seqscan = off`;
    const [row] = await tx.unsafe<[{ 'QUERY PLAN': [{ Plan: PlanNode }] }]>(`EXPLAIN (FORMAT JSON) ${query}`, params);
    return row['QUERY PLAN'][0].Plan;
  });
}

describe('the key-restricted definition of a keyed view reads its sources through their indexes', () => {
  const db = useTestDatabase();
  let tournamentIds: number[];
  let revenueKeys: { project_id: number; month: string }[];

  beforeAll(async () => {
    await seedDemo({ sql: db.sql, scale: 'small' });
    await db.sql`ANALYZE`;
    const executor = createRefreshExecutor({ sql: db.sql, catalog: demoCatalog });
    for (const view of [TOURNAMENTS, REVENUE]) {
      const outcome = await executor.refresh({ view: view.name, reason: 'manual' });
      if (outcome.status !== 'success') throw new Error(`refresh of ${view.name}: ${outcome.status}`);
    }
    tournamentIds = (await db.sql<{ id: number }[]>`SELECT id FROM tournaments ORDER BY id LIMIT 100`).map((row) => row.id);
    revenueKeys = await db.sql<{ project_id: number; month: string }[]>`
      SELECT project_id, month::text AS month FROM mv_revenue_by_project_month ORDER BY project_id, month LIMIT 100`;
    expect(tournamentIds).toHaveLength(100);
    expect(revenueKeys).toHaveLength(100);
  });

  /** The key-restricted definition's parameters: one array per scope key column. */
  const keyParams = (view: CatalogView, count: number): (string | number)[][] =>
    view === TOURNAMENTS
      ? [tournamentIds.slice(0, count)]
      : [revenueKeys.slice(0, count).map((key) => key.project_id), revenueKeys.slice(0, count).map((key) => key.month)];

  it.each([
    [TOURNAMENTS.name, 1],
    [TOURNAMENTS.name, 100],
    [REVENUE.name, 1],
    [REVENUE.name, 100],
  ])('%s for %i key(s): no source table is read in full', async (name, count) => {
    const view = demoCatalog.get(name);
    const plan = await planWithoutSeqScans(db.sql, view.keyed!.keyedSql, keyParams(view, count));
    expect(fullReads(plan, view.sources)).toEqual([]);
    // Every child aggregate's table is in the plan, so the check above looked at each of them.
    expect([...tablesRead(plan, view.sources)].sort()).toEqual([...view.sources].sort());
  });

  it('control: the whole definition filtered on the outside reads the child tables in full', async () => {
    // PostgreSQL pushes `= ANY(array)` from the outer query into `tournaments` only, not into
    // the pre-aggregated registrations, matches and prize subqueries.
    const query = `SELECT * FROM (${TOURNAMENTS.definitionSql}) AS d WHERE d.tournament_id = ANY($1::integer[])`;
    const plan = await planWithoutSeqScans(db.sql, query, [tournamentIds.slice(0, 1)]);
    const tables = new Set(fullReads(plan, TOURNAMENTS.sources).map((read) => read.table));
    expect([...tables].sort()).toEqual(['matches', 'prize_transactions', 'registrations']);
  });

  it('control: a child aggregate that forgets keys.match is caught', async () => {
    const restricted = 'FROM registrations\n  WHERE tournament_id = ANY($1::integer[])';
    expect(TOURNAMENTS.keyed!.keyedSql).toContain(restricted);
    const forgetful = TOURNAMENTS.keyed!.keyedSql.replace(restricted, 'FROM registrations\n  WHERE TRUE');
    const plan = await planWithoutSeqScans(db.sql, forgetful, [tournamentIds.slice(0, 1)]);
    expect(fullReads(plan, TOURNAMENTS.sources).map((read) => read.table)).toEqual(['registrations']);
  });

  it.each([TOURNAMENTS.name, REVENUE.name])('%s: full rebuilds use the one definition, over every key', async (name) => {
    const view = demoCatalog.get(name);
    const definition = demoViewDefinitions.find((candidate) => candidate.keyed && candidate.view === view.view)!;
    expect(view.definitionSql).toBe(new PgDialect().sqlToQuery(definition.keyed!.query(wholeView)).sql.trim());
    expect(view.definitionSql).not.toMatch(/\$\d/);
    for (const [index, column] of view.keyed!.scopeKey.entries()) {
      expect(view.keyed!.keyedSql).toContain(`$${index + 1}::${column.sqlType}[]`);
    }

    // The rebuild's rows have exactly the stored table's columns and types, in order.
    const columnTypes = (relation: string) => db.sql<{ name: string; type: string }[]>`
      SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute
      WHERE attrelid = to_regclass(${relation}) AND attnum > 0 AND NOT attisdropped ORDER BY attnum`;
    const shape = await db.sql.begin(async (tx) => {
      await tx.unsafe(`CREATE TEMPORARY TABLE rebuild_shape ON COMMIT DROP AS ${view.definitionSql} WITH NO DATA`);
      return tx<{ name: string; type: string }[]>`
        SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute
        WHERE attrelid = 'pg_temp.rebuild_shape'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`;
    });
    expect(shape).toEqual(await columnTypes(quoteIdent(view.name)));
  });
});
