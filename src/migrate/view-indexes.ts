import type { IndexSpec } from '../catalog/catalog.js';
import type { Queryable } from '../core/db.js';
import { quoteIdent } from '../core/identifiers.js';

/** An index found on a view (MV or table), as `pg_index` describes it. */
export interface ExistingIndex {
  name: string;
  unique: boolean;
  partial: boolean;
  /** Column names in index order; `(expression)` for an expression column. */
  columns: string[];
}

/** The indexes on `view`, by name; empty when the view does not exist. */
export async function readViewIndexes(sql: Queryable, view: string): Promise<Map<string, ExistingIndex>> {
  const rows = await sql<ExistingIndex[]>`
    SELECT i.relname AS name,
           ix.indisunique AS unique,
           ix.indpred IS NOT NULL AS partial,
           array_agg(COALESCE(a.attname, '(expression)') ORDER BY k.ord) AS columns
    FROM pg_index ix
    JOIN pg_class i ON i.oid = ix.indexrelid
    CROSS JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord)
    LEFT JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum
    WHERE ix.indrelid = to_regclass(${quoteIdent(view)})
    GROUP BY i.relname, ix.indisunique, ix.indpred IS NOT NULL`;
  return new Map(rows.map((row) => [row.name, row]));
}

/** Whether an existing index is the one the catalog declares: same uniqueness and columns, no predicate. */
export function indexMatches(existing: ExistingIndex, spec: IndexSpec): boolean {
  return (
    existing.unique === spec.unique &&
    !existing.partial &&
    existing.columns.length === spec.columns.length &&
    existing.columns.every((column, i) => column === spec.columns[i])
  );
}
