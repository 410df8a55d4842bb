import type { Queryable } from '../core/db.js';

/** A view (materialized or plain) that reads another relation. */
export interface DependentView {
  name: string;
  schema: string;
  kind: 'materialized' | 'view';
  /** Distance from the relation asked about: 1 reads it directly. */
  depth: number;
}

/**
 * Every view that reads `relation`, directly or through other views, found from
 * `pg_depend` (a view's rewrite rule depends on the relations its query reads).
 * Deepest dependants come last.
 */
export async function findDependentViews(sql: Queryable, relation: string): Promise<DependentView[]> {
  const rows = await sql<{ name: string; schema: string; relkind: string; depth: number }[]>`
    WITH RECURSIVE dependants(oid, depth) AS (
      SELECT DISTINCT r.ev_class, 1
      FROM pg_depend d
      JOIN pg_rewrite r ON r.oid = d.objid
      WHERE d.classid = 'pg_rewrite'::regclass
        AND d.refclassid = 'pg_class'::regclass
        AND d.refobjid = to_regclass(${relation})
        AND r.ev_class <> d.refobjid
      UNION
      SELECT r.ev_class, dependants.depth + 1
      FROM dependants
      JOIN pg_depend d ON d.refobjid = dependants.oid AND d.refclassid = 'pg_class'::regclass
      JOIN pg_rewrite r ON r.oid = d.objid AND d.classid = 'pg_rewrite'::regclass
      WHERE r.ev_class <> dependants.oid AND dependants.depth < 32
    )
    SELECT c.relname AS name, n.nspname AS schema, c.relkind, max(dependants.depth)::int AS depth
    FROM dependants
    JOIN pg_class c ON c.oid = dependants.oid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    GROUP BY c.relname, n.nspname, c.relkind
    ORDER BY depth, name`;
  return rows.map((row) => ({
    name: row.name,
    schema: row.schema,
    kind: row.relkind === 'm' ? 'materialized' : 'view',
    depth: row.depth,
  }));
}

/**
 * Materialized views that read `relation` directly or through plain views only (not through
 * another materialized view): the views to refresh right after it. Deeper ones follow in
 * turn, each after its own upstream.
 */
export async function findDirectDependentMaterializedViews(sql: Queryable, relation: string): Promise<string[]> {
  const rows = await sql<{ name: string }[]>`
    WITH RECURSIVE reached(oid, relkind, depth) AS (
      SELECT DISTINCT r.ev_class, c.relkind, 1
      FROM pg_depend d
      JOIN pg_rewrite r ON r.oid = d.objid
      JOIN pg_class c ON c.oid = r.ev_class
      WHERE d.classid = 'pg_rewrite'::regclass
        AND d.refclassid = 'pg_class'::regclass
        AND d.refobjid = to_regclass(${relation})
        AND r.ev_class <> d.refobjid
      UNION
      SELECT r.ev_class, c.relkind, reached.depth + 1
      FROM reached
      JOIN pg_depend d ON d.refobjid = reached.oid AND d.refclassid = 'pg_class'::regclass
      JOIN pg_rewrite r ON r.oid = d.objid AND d.classid = 'pg_rewrite'::regclass
      JOIN pg_class c ON c.oid = r.ev_class
      WHERE reached.relkind = 'v' AND r.ev_class <> reached.oid AND reached.depth < 32
    )
    SELECT DISTINCT c.relname AS name
    FROM reached JOIN pg_class c ON c.oid = reached.oid
    WHERE reached.relkind = 'm'
    ORDER BY name`;
  return rows.map((row) => row.name);
}
