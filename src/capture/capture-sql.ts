import { createHash } from 'node:crypto';
import type { CatalogCaptureSource } from '../catalog/capture-definition.js';
import type { CatalogView } from '../catalog/catalog.js';
import { quoteIdent } from '../core/identifiers.js';
import { quoteQualified, type EngineStore } from '../store/engine-schema.js';

/**
 * The SQL of capture triggers. Each (view, source table) pair gets one trigger function in the
 * engine schema and four statement-level triggers on the table (INSERT, UPDATE, DELETE with
 * transition tables, and TRUNCATE), so a 10,000-row statement costs one call. The function
 * appends what the statement touched, in the writer's transaction: the keys of a keyed view
 * (old and new keys of an UPDATE) to the dirty keys, or a whole-view request. A rolled-back
 * write records nothing; a committed one cannot be forgotten. It appends only (no row is
 * updated), so concurrent writers never wait on each other, and it sends no NOTIFY, which
 * would serialise their commits: the workers poll for new requests instead.
 */

/** Prefix of every capture trigger's name: `migrate` owns the triggers it finds by it. */
export const CAPTURE_TRIGGER_PREFIX = 'mvfleet_capture_';

/** The triggers and function of one (view, table) pair, with a fingerprint of their definition. */
export interface CaptureInstall {
  view: string;
  table: string;
  /** Qualified name of the trigger function. */
  functionName: string;
  /** Its name within the engine schema (`pg_proc.proname`). */
  functionShortName: string;
  /** Names of the four triggers on `table`. */
  triggers: { insert: string; update: string; delete: string; truncate: string };
  /** md5 of the function's SQL: an installed pair with the same fingerprint is up to date. */
  fingerprint: string;
  /** CREATE OR REPLACE FUNCTION … */
  functionSql: string;
  /** The four CREATE TRIGGER statements. */
  triggerSql: string[];
}

const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;

/** The mapped scope key columns of a source: their position in the key and their row expression. */
function mappedKeyColumns(source: CatalogCaptureSource): { index: number; expression: string; sqlType: string }[] {
  return source.key!.flatMap(({ column, expression }, index) => (expression === null ? [] : [{ index, expression, sqlType: column.sqlType }]));
}

/** The row expressions of the mapped scope key columns, each in its key column's type, as a select list. */
function keyColumns(source: CatalogCaptureSource): string {
  return mappedKeyColumns(source).map(({ index, expression, sqlType }) => `(${expression})::${sqlType} AS k${index}`).join(', ');
}

/**
 * Rows of the UPDATE that matter, as a query of the columns `what` names (`AS` aliases, read
 * back as `names`): every old and new row, or, with watched columns, the rows whose key or
 * watched columns differ between old and new (as multisets: an UPDATE that rewrites a row
 * with the same values changes nothing).
 */
function changedRows(source: CatalogCaptureSource, what: string, names: string): string {
  if (!source.columns) return `SELECT ${what} FROM old_rows UNION SELECT ${what} FROM new_rows`;
  const watched = source.columns.map(quoteIdent).join(', ');
  const side = (table: string) => `SELECT ${what}, ${watched} FROM ${table}`;
  return `SELECT ${names} FROM (
        (${side('old_rows')} EXCEPT ALL ${side('new_rows')})
        UNION ALL
        (${side('new_rows')} EXCEPT ALL ${side('old_rows')})
      ) AS changed`;
}

export function captureInstall(store: EngineStore, view: CatalogView, source: CatalogCaptureSource): CaptureInstall {
  const id = createHash('md5').update(`${view.name}.${source.table}`).digest('hex').slice(0, 12);
  const functionShortName = `capture_${id}`;
  const functionName = `${store.schema}.${functionShortName}`;
  const detail = literal(`capture ${source.table}`);
  const viewName = literal(view.name);
  const wholeView = `INSERT INTO ${quoteQualified(store.pendingRequests)} (view_name, reason, trigger_detail, due_at)
        VALUES (${viewName}, 'event', ${detail}, clock_timestamp() + interval '${view.coalesceWindowMs} milliseconds');`;
  let body: string;
  if (source.key) {
    const keys = quoteQualified(store.dirtyKeys);
    const names = mappedKeyColumns(source).map(({ index }) => `k${index}`);
    // Distinct keys first (plain values hash fast), one jsonb array per key after. A row whose
    // key has a NULL belongs to no keyed row of the view. An unmapped key column is a JSON
    // null in the recorded key: a partial key, matching every value of that column.
    const keyArray = source.key.map(({ expression }, index) => (expression === null ? 'NULL' : `k${index}`)).join(', ');
    const record = (rows: string) => `INSERT INTO ${keys} (view_name, key, event)
        SELECT ${viewName}, jsonb_build_array(${keyArray}), ${detail}
        FROM (${rows}) AS touched
        WHERE ${names.map((name) => `${name} IS NOT NULL`).join(' AND ')};`;
    const key = keyColumns(source);
    body = `
      IF TG_OP = 'INSERT' THEN
        ${record(`SELECT DISTINCT ${key} FROM new_rows`)}
      ELSIF TG_OP = 'DELETE' THEN
        ${record(`SELECT DISTINCT ${key} FROM old_rows`)}
      ELSIF TG_OP = 'UPDATE' THEN
        ${record(`SELECT DISTINCT ${names.join(', ')} FROM (${changedRows(source, key, names.join(', '))}) AS changed_keys`)}
      ELSE
        ${wholeView}
      END IF;`;
  } else {
    body = `
      IF TG_OP = 'INSERT' THEN
        IF EXISTS (SELECT 1 FROM new_rows) THEN ${wholeView} END IF;
      ELSIF TG_OP = 'DELETE' THEN
        IF EXISTS (SELECT 1 FROM old_rows) THEN ${wholeView} END IF;
      ELSIF TG_OP = 'UPDATE' THEN
        IF EXISTS (${changedRows(source, '1 AS one', 'one')}) THEN ${wholeView} END IF;
      ELSE
        ${wholeView}
      END IF;`;
  }
  // SECURITY DEFINER: writers need no privileges on the engine schema. The fixed search_path
  // keeps the function from resolving names through the writer's path.
  const functionSql = `CREATE OR REPLACE FUNCTION ${quoteQualified(functionName)}() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $capture$
    BEGIN${body}
      RETURN NULL;
    END
    $capture$`;
  const fingerprint = createHash('md5').update(functionSql).digest('hex');
  const name = (op: string) => `${CAPTURE_TRIGGER_PREFIX}${id}_${op}`;
  const triggers = { insert: name('ins'), update: name('upd'), delete: name('del'), truncate: name('trunc') };
  const table = quoteIdent(source.table);
  const run = `EXECUTE FUNCTION ${quoteQualified(functionName)}()`;
  return {
    view: view.name,
    table: source.table,
    functionName,
    functionShortName,
    triggers,
    fingerprint,
    functionSql,
    triggerSql: [
      `CREATE TRIGGER ${quoteIdent(triggers.insert)} AFTER INSERT ON ${table} REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT ${run}`,
      `CREATE TRIGGER ${quoteIdent(triggers.update)} AFTER UPDATE ON ${table} REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT ${run}`,
      `CREATE TRIGGER ${quoteIdent(triggers.delete)} AFTER DELETE ON ${table} REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT ${run}`,
      `CREATE TRIGGER ${quoteIdent(triggers.truncate)} AFTER TRUNCATE ON ${table} FOR EACH STATEMENT ${run}`,
    ],
  };
}
