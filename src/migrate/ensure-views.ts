import type { Catalog, CatalogView, IndexSpec } from '../catalog/catalog.js';
import type { Queryable } from '../core/db.js';
import { MvfleetError } from '../core/errors.js';
import { quoteIdent } from '../core/identifiers.js';
import { indexMatches, readViewIndexes } from './view-indexes.js';

/** What {@link ensureViews} had to change. Empty lists mean the database already matched. */
export interface EnsureViewsResult {
  createdViews: string[];
  createdIndexes: string[];
  replacedIndexes: string[];
}

function createIndexSql(view: string, spec: IndexSpec): string {
  const columns = spec.columns.map(quoteIdent).join(', ');
  return `CREATE ${spec.unique ? 'UNIQUE ' : ''}INDEX ${quoteIdent(spec.name)} ON ${quoteIdent(view)} (${columns})`;
}

/** `CREATE MATERIALIZED VIEW … WITH NO DATA` for a catalog view; the fleet populates it. */
export function createViewSql(view: CatalogView): string {
  return `CREATE MATERIALIZED VIEW ${quoteIdent(view.name)} AS ${view.definitionSql} WITH NO DATA`;
}

/**
 * Makes the database match the catalog for what drizzle-kit cannot express: every catalog
 * MV exists (recreated from its definition, in dependency order, when a migration dropped
 * it), every view (MV or table) carries its unique key index and declared indexes, and a
 * view stored differently from what the catalog says is refused. Run inside the migration
 * transaction; changes nothing when everything is in place.
 */
export async function ensureViews(sql: Queryable, catalog: Catalog): Promise<EnsureViewsResult> {
  const result: EnsureViewsResult = { createdViews: [], createdIndexes: [], replacedIndexes: [] };
  for (const view of catalog.views) {
    const [{ kind }] = await sql<[{ kind: string | null }]>`
      SELECT (SELECT relkind::text FROM pg_class WHERE oid = to_regclass(${quoteIdent(view.name)})) AS kind`;
    const wanted = view.storage === 'materialized' ? 'm' : 'r';
    if (kind !== null && kind !== wanted) {
      const found = kind === 'm' ? 'a materialized view' : kind === 'r' ? 'a table' : `a relation of kind ${kind}`;
      throw new MvfleetError(
        `${view.name} is ${found} but the catalog stores it as ${view.storage === 'table' ? 'a table' : 'a materialized view'}: ` +
          'generate the migration that switches it (drizzle-kit generate)',
      );
    }
    if (kind === null && view.storage === 'table') {
      throw new MvfleetError(`table ${view.name} does not exist: generate its migration (drizzle-kit generate)`);
    }
    if (kind === null) {
      await sql.unsafe(createViewSql(view));
      result.createdViews.push(view.name);
    }
    const indexes = await readViewIndexes(sql, view.name);
    for (const spec of view.indexes) {
      const existing = indexes.get(spec.name);
      if (existing && indexMatches(existing, spec)) continue;
      if (existing) {
        await sql.unsafe(`DROP INDEX ${quoteIdent(spec.name)}`);
        result.replacedIndexes.push(spec.name);
      } else {
        result.createdIndexes.push(spec.name);
      }
      await sql.unsafe(createIndexSql(view.name, spec));
    }
  }
  return result;
}
