import type { Catalog } from '../catalog/catalog.js';
import type { Queryable } from '../core/db.js';
import { findDirectDependentMaterializedViews } from '../migrate/view-dependencies.js';

/**
 * Catalog views to refresh right after `view`: those the catalog declares as built on it,
 * and those PostgreSQL knows read it (`pg_depend`, also through plain views). Views that
 * depend on it only through another materialized view are refreshed after that one instead.
 */
export async function directDependants(sql: Queryable, catalog: Catalog, view: string): Promise<string[]> {
  const declared = catalog.views.filter((candidate) => candidate.upstream.includes(view)).map((v) => v.name);
  const found = (await findDirectDependentMaterializedViews(sql, view)).filter((name) => catalog.has(name));
  const names = new Set([...declared, ...found]);
  return catalog.views.filter((candidate) => names.has(candidate.name)).map((v) => v.name);
}
