import type { KeyColumn } from './key-scope.js';

/**
 * Change capture: triggers on a view's source tables record what each write touched, in the
 * writer's own transaction, so no change can be forgotten (a crash after commit, a code path
 * that never emits, a fix in psql, another service). Declared per view in the config.
 */

/** A scope key column's value in a row of the source table: a column, or an SQL expression over the row. */
export type CaptureKeyValue = string | { sql: string };

/** How writes to one source table reach a view. */
export interface CaptureSource {
  /**
   * Keyed views: each scope key column's value in a row of this table (`{ tournament_id:
   * 'tournament_id' }`, `{ month: { sql: "date_trunc('month', paid_on)::date" } }`). A write
   * then records the keys of the rows it inserted, updated (old and new) or deleted. Map only
   * some scope key columns (a write to `projects` names a project, not a month) and a write
   * recomputes the view's rows matching that part of the key: every month of the project.
   * Leave it out and every write refreshes the whole view, as it always does for a
   * materialized view.
   */
  key?: Readonly<Record<string, CaptureKeyValue>>;
  /** Only UPDATEs that change one of these columns are captured; INSERT and DELETE always are. */
  columns?: readonly string[];
}

/** A view's capture declaration in the config: source table name → how its writes map. */
export type CaptureDefinition = Readonly<Record<string, CaptureSource>>;

/** One source table of a capturing view, resolved. */
export interface CatalogCaptureSource {
  table: string;
  /**
   * SQL expressions over a row of `table` giving the view's scope key, in scope-key order
   * with the key columns' types; an unmapped column's expression is null (the write touches
   * every value of it: a partial key). null: writes refresh the whole view.
   */
  key: readonly { column: KeyColumn; expression: string | null }[] | null;
  /** Watched columns for UPDATE; null: every UPDATE. */
  columns: readonly string[] | null;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Checks a view's capture declaration against the view (pushing problems onto `problems`):
 * table and column names are plain identifiers, key mappings name scope key columns of a
 * keyed view. What the database holds (tables, columns, types) is checked by `migrate`.
 */
export function resolveCapture(
  capture: CaptureDefinition | undefined,
  view: { sources: readonly string[]; scopeKey: readonly KeyColumn[] | null },
  problems: string[],
): CatalogCaptureSource[] {
  if (!capture) return [];
  const resolved: CatalogCaptureSource[] = [];
  for (const [table, source] of Object.entries(capture)) {
    const at = `capture.${table}`;
    if (!IDENTIFIER.test(table)) {
      problems.push(`${at}: a table name must match ${IDENTIFIER}`);
      continue;
    }
    if (!view.sources.includes(table)) problems.push(`${at}: ${table} is not one of the view's sources (${view.sources.join(', ')})`);
    const columns = source.columns ?? null;
    if (columns !== null && columns.length === 0) problems.push(`${at}.columns: name at least one column, or leave it out`);
    for (const column of columns ?? []) {
      if (!IDENTIFIER.test(column)) problems.push(`${at}.columns: ${column} must match ${IDENTIFIER}`);
    }
    const mapped = Object.entries(source.key ?? {});
    if (mapped.length > 0 && !view.scopeKey) problems.push(`${at}.key: only a keyed view has a scope key to map`);
    const scopeKey = view.scopeKey ?? [];
    for (const [column, value] of mapped) {
      if (!scopeKey.some((key) => key.name === column)) {
        problems.push(`${at}.key: ${column} is not a scope key column (${scopeKey.map((key) => key.name).join(', ') || 'none'})`);
      }
      if (typeof value === 'string' && !IDENTIFIER.test(value)) {
        problems.push(`${at}.key.${column}: "${value}" is not a column name; write an expression as { sql: '…' }`);
      }
      if (typeof value === 'object' && (typeof value.sql !== 'string' || value.sql.trim() === '' || value.sql.includes(';'))) {
        problems.push(`${at}.key.${column}: sql must be one expression over the row`);
      }
    }
    const keyed = scopeKey.length > 0 && scopeKey.some((key) => mapped.some(([column]) => column === key.name));
    resolved.push({
      table,
      key: keyed
        ? scopeKey.map((key) => {
            const value = source.key![key.name];
            if (value === undefined) return { column: key, expression: null };
            return { column: key, expression: typeof value === 'string' ? `"${value}"` : `(${value.sql})` };
          })
        : null,
      columns,
    });
  }
  return resolved;
}
