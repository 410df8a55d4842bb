import type { CatalogView } from '../catalog/catalog.js';
import type { Queryable, Sql } from '../core/db.js';
import { oneLine } from '../core/errors.js';
import type { CheckFinding } from './check-finding.js';

/** A Seq Scan of a source the planner estimates at more rows than this makes every targeted refresh slow. */
export const LARGE_SOURCE_ROWS = 10_000;

/** One node of an `EXPLAIN (FORMAT JSON)` plan. */
interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Filter?: string;
  'Plan Rows': number;
  Plans?: PlanNode[];
}

type PlanOutput = [{ 'QUERY PLAN': [{ Plan: PlanNode }] }];

/** The table name a plan node reports for a source as the catalog lists it (`sales.orders` → `orders`). */
const relationName = (source: string) => source.split('.').at(-1)!;

function seqScans(node: PlanNode, found: PlanNode[] = []): PlanNode[] {
  if (node['Node Type'] === 'Seq Scan') found.push(node);
  for (const child of node.Plans ?? []) seqScans(child, found);
  return found;
}

async function plan(tx: Queryable, query: string, params: (string | number)[][] = []): Promise<PlanNode> {
  const [row] = await tx.unsafe<PlanOutput>(`EXPLAIN (FORMAT JSON) ${query}`, params);
  return row['QUERY PLAN'][0].Plan;
}

/** A relation's name as PostgreSQL quotes it (qualified when off the search path), for SQL text. */
async function regclassText(tx: Queryable, relation: string): Promise<string> {
  const [row] = await tx<[{ name: string }]>`SELECT to_regclass(${relation})::text AS name`;
  return row.name;
}

/**
 * Whether a targeted refresh of a keyed view reads its sources through indexes. The
 * key-restricted definition is planned (not run) for an empty key set: the planner then takes
 * an index whenever one can serve the key's condition, so a Seq Scan left in the plan means
 * none can. It only matters on a large table, so each scanned source's size is estimated by
 * the planner too (the Seq Scan's own row estimate is rows after its filter, not rows read).
 * A plan that cannot be made is reported, not thrown: the other checks still count.
 */
export async function checkScopeKeyPlan(sql: Sql, view: CatalogView): Promise<CheckFinding[]> {
  const keyed = view.keyed;
  if (!keyed) return [];
  try {
    return await sql.begin('read only', async (tx) => {
      // Planning takes a share lock on each source: never wait long behind a migration.
      await tx`SELECT set_config('lock_timeout', '2s', true), set_config('statement_timeout', '10s', true)`;
      const root = await plan(tx, keyed.keyedSql, keyed.scopeKey.map(() => []));
      const findings: CheckFinding[] = [];
      const reported = new Set<string>();
      for (const scan of seqScans(root)) {
        const source = view.sources.find((candidate) => relationName(candidate) === scan['Relation Name']);
        if (!source || reported.has(source)) continue;
        reported.add(source);
        const rows = (await plan(tx, `SELECT FROM ${await regclassText(tx, source)}`))['Plan Rows'];
        if (rows <= LARGE_SOURCE_ROWS) continue;
        const filter = scan.Filter ? `, filter ${scan.Filter}` : '';
        findings.push({
          level: 'warning',
          view: view.name,
          message:
            `a targeted refresh reads all of ${source} (Seq Scan of ~${rows.toLocaleString('en-US')} rows${filter}): ` +
            `index the column its keys.match condition compares, so that a refresh reads only the keys' rows`,
        });
      }
      return findings;
    });
  } catch (error) {
    return [
      {
        level: 'warning',
        view: view.name,
        message: `could not plan its key-restricted query, so its source indexes were not checked: ${oneLine(error)}`,
      },
    ];
  }
}
