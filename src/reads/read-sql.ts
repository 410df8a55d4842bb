import type { Catalog, CatalogView } from '../catalog/catalog.js';
import { quoteIdent } from '../core/identifiers.js';
import type { Parameter } from './column-values.js';
import type { Condition, SortTerm } from './read-conditions.js';
import { quoteQualified, type EngineStore } from '../store/engine-schema.js';

/** SQL text and its parameters, for `sql.unsafe(text, params)`. */
export interface Statement {
  text: string;
  params: (string | number | boolean)[];
}

/** What a read asks for: rows matching `conditions`, sorted, at most `limit` of them. */
export interface RowQuery {
  conditions: readonly Condition[];
  sort: readonly SortTerm[];
  limit: number | null;
}

/**
 * Whether the view holds data (an MV that was refreshed, a table with a complete build), and
 * the start of its last successful refresh (its `as_of`). One lookup on
 * `mv_refresh_log_last_success_idx`; `populated` is null when the view does not exist.
 */
export function freshnessStatement(store: EngineStore, view: CatalogView): Statement {
  return {
    text: `SELECT
  (SELECT CASE c.relkind WHEN 'm' THEN c.relispopulated
            ELSE EXISTS (SELECT 1 FROM ${quoteQualified(store.tableState)} t
                         WHERE t.view_name = $2 AND t.relid = c.oid::bigint AND t.definition_md5 = $3) END
   FROM pg_class c WHERE c.oid = to_regclass($1)) AS populated,
  (SELECT l.started_at FROM ${quoteQualified(store.refreshLog)} l
    WHERE l.view_name = $2 AND l.status = 'success'
    ORDER BY l.started_at DESC LIMIT 1) AS as_of`,
    params: [quoteIdent(view.name), view.name, view.fingerprint],
  };
}

/** Rows of the materialized view itself. */
export function materializedStatement(view: CatalogView, query: RowQuery): Statement {
  return selectFrom(view, quoteIdent(view.name), '', query);
}

/**
 * Rows computed now by the view's own defining query, restricted by `query`. The
 * conditions go on the outer SELECT and PostgreSQL pushes them into the per-key
 * aggregates (see the EXPLAIN notes in the view files).
 *
 * A view built on other catalog views (a cascade) would otherwise read its upstream MVs
 * as they are, stale or not; each upstream is shadowed by a CTE of the same name holding
 * its own defining query, so a live answer is live all the way down. CTEs come in catalog
 * (dependency) order, so each one can refer to those before it.
 */
export function liveStatement(catalog: Catalog, view: CatalogView, query: RowQuery): Statement {
  const upstream = upstreamClosure(catalog, view);
  const ctes =
    upstream.length === 0
      ? ''
      : `WITH ${upstream.map((parent) => `${quoteIdent(parent.name)} AS (\n${parent.definitionSql}\n)`).join(',\n')}\n`;
  return selectFrom(view, `(\n${view.definitionSql}\n) AS live`, ctes, query);
}

function selectFrom(view: CatalogView, source: string, prefix: string, query: RowQuery): Statement {
  const params: Statement['params'] = [];
  // A Date goes as ISO text cast to timestamptz, the type postgres.js would give it, so that
  // no serializer of the client is involved (see core/pg-values.ts).
  const bind = (value: Parameter) => {
    params.push(value instanceof Date ? value.toISOString() : value);
    return value instanceof Date ? `$${params.length}::timestamptz` : `$${params.length}`;
  };
  const where = query.conditions.map((condition) =>
    condition.value === null
      ? `${quoteIdent(condition.column)} IS NULL`
      : `${quoteIdent(condition.column)} = ${bind(condition.value)}`,
  );
  const order = query.sort.map((term) => `${quoteIdent(term.column)} ${term.direction === 'desc' ? 'DESC' : 'ASC'}`);
  let text = `${prefix}SELECT ${view.columns.map(quoteIdent).join(', ')}\nFROM ${source}`;
  if (where.length > 0) text += `\nWHERE ${where.join(' AND ')}`;
  if (order.length > 0) text += `\nORDER BY ${order.join(', ')}`;
  if (query.limit !== null) text += `\nLIMIT ${bind(query.limit)}`;
  return { text, params };
}

/** Every catalog view `view` is built on, directly or not, in dependency order. */
function upstreamClosure(catalog: Catalog, view: CatalogView): CatalogView[] {
  const needed = new Set<string>();
  const visit = (name: string) => {
    for (const parent of catalog.get(name).upstream) {
      if (!needed.has(parent)) {
        needed.add(parent);
        visit(parent);
      }
    }
  };
  visit(view.name);
  return catalog.views.filter((candidate) => needed.has(candidate.name));
}
