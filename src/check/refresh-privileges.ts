import type { Catalog } from '../catalog/catalog.js';
import type { Queryable } from '../core/db.js';
import { quoteIdent } from '../core/identifiers.js';
import type { CheckFinding } from './check-finding.js';

/**
 * Whether the database role can do what a worker does: write mvfleet's own tables (every
 * attempt is logged there; a role that cannot fails without a trace) and refresh each view
 * (REFRESH MATERIALIZED VIEW needs its owner, or a member of the owner's role; a table-stored
 * view needs INSERT, UPDATE and DELETE on it).
 */
export async function checkRefreshPrivileges(sql: Queryable, catalog: Catalog): Promise<CheckFinding[]> {
  const { store } = catalog;
  const engineTables = [store.refreshLog, store.dirtyKeys, store.pendingRequests, store.tableState];
  const [engine] = await sql<[{ denied: string[] }]>`
    SELECT COALESCE(array_agg(t) FILTER (WHERE to_regclass(t) IS NOT NULL
             AND NOT has_table_privilege(current_user, t, 'INSERT, UPDATE, DELETE')), '{}') AS denied
    FROM unnest(${engineTables}::text[]) AS t`;
  const findings: CheckFinding[] = [];
  if (engine.denied.length > 0) {
    findings.push({
      level: 'error',
      message: `the database role cannot write ${engine.denied.join(', ')}: grant it INSERT, UPDATE and DELETE there (workers log every attempt in them)`,
    });
  }
  const rows = await sql<{ view: string; kind: string; can: boolean }[]>`
    SELECT v.view, c.relkind::text AS kind,
           CASE c.relkind
             WHEN 'm' THEN pg_has_role(current_user, c.relowner, 'USAGE')
             ELSE has_table_privilege(current_user, c.oid, 'INSERT, UPDATE, DELETE')
           END AS can
    FROM unnest(${catalog.views.map((view) => view.name)}::text[]) AS v(view)
    JOIN pg_class c ON c.oid = to_regclass(quote_ident(v.view)) AND c.relkind IN ('m', 'r')`;
  for (const row of rows) {
    if (row.can) continue;
    findings.push({
      level: 'error',
      view: row.view,
      message:
        row.kind === 'm'
          ? `the database role cannot refresh ${quoteIdent(row.view)}: only its owner (or a member of the owner's role) may; every refresh will fail with 42501`
          : `the database role cannot write ${quoteIdent(row.view)}: grant it INSERT, UPDATE and DELETE; every refresh will fail with 42501`,
    });
  }
  return findings;
}
