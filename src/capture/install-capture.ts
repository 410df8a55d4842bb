import type { Catalog } from '../catalog/catalog.js';
import type { Queryable } from '../core/db.js';
import { MvfleetError, oneLine } from '../core/errors.js';
import { quoteIdent } from '../core/identifiers.js';
import { quoteQualified } from '../store/engine-schema.js';
import { CAPTURE_TRIGGER_PREFIX, captureInstall, type CaptureInstall } from './capture-sql.js';

/** What {@link installCapture} changed; empty lists when everything was in place. */
export interface InstallCaptureResult {
  /** `view ← table` pairs whose triggers were created or whose function was replaced. */
  installed: string[];
  /** Triggers removed because no view captures from their table any more (`table.trigger`). */
  removed: string[];
}

/** Key column types and the expression types that give their canonical values. */
const COMPATIBLE: Readonly<Record<string, readonly string[]>> = {
  smallint: ['smallint', 'integer', 'bigint'],
  integer: ['smallint', 'integer', 'bigint'],
  bigint: ['smallint', 'integer', 'bigint'],
  date: ['date'],
  text: ['text', 'character varying'],
};

/** Installed capture triggers and functions (of the catalog's engine schema). */
export async function installedCapture(sql: Queryable, catalog: Catalog) {
  const triggers = await sql<{ trigger: string; schema: string; table: string; oid: number }[]>`
    SELECT t.tgname AS trigger, n.nspname AS schema, c.relname AS table, c.oid::int AS oid
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE NOT t.tgisinternal AND starts_with(t.tgname, ${CAPTURE_TRIGGER_PREFIX})`;
  const functions = await sql<{ name: string; fingerprint: string | null }[]>`
    SELECT p.proname AS name, obj_description(p.oid, 'pg_proc') AS fingerprint
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = ${catalog.store.schema} AND starts_with(p.proname, 'capture_')`;
  return { triggers, functions };
}

/** Every capture pair of the catalog. */
export function captureInstalls(catalog: Catalog): CaptureInstall[] {
  return catalog.views.flatMap((view) => view.capture.map((source) => captureInstall(catalog.store, view, source)));
}

/**
 * Checks the catalog's capture declarations against the database: each table exists, watched
 * columns exist, each key expression is valid over a row of the table and of the key
 * column's type. Read only. Expressions that fail are tried inside a savepoint when
 * `inTransaction` (a failed statement would abort the caller's transaction).
 * @returns one problem per mistake, with its view, naming the table and what is wrong.
 */
export async function captureProblems(sql: Queryable, catalog: Catalog, inTransaction = false): Promise<{ view: string; message: string }[]> {
  const found: { view: string; message: string }[] = [];
  for (const view of catalog.views) {
    const problems: string[] = [];
    for (const source of view.capture) {
      const at = `capture.${source.table}`;
      const [table] = await sql<{ kind: string }[]>`
        SELECT relkind::text AS kind FROM pg_class WHERE oid = to_regclass(${quoteIdent(source.table)})`;
      if (!table || !['r', 'p'].includes(table.kind)) {
        problems.push(`${at}: no table ${source.table}${table ? ' (it is not a table)' : ''}`);
        continue;
      }
      const columns = new Set(
        (await sql<{ name: string }[]>`
          SELECT attname AS name FROM pg_attribute
          WHERE attrelid = to_regclass(${quoteIdent(source.table)}) AND attnum > 0 AND NOT attisdropped`).map((row) => row.name),
      );
      for (const column of source.columns ?? []) {
        if (!columns.has(column)) problems.push(`${at}.columns: ${source.table} has no column ${column}`);
      }
      for (const { column, expression } of source.key ?? []) {
        if (expression === null) continue;
        const type = await expressionType(sql, source.table, expression, inTransaction);
        if ('error' in type) problems.push(`${at}.key.${column.name}: ${type.error}`);
        else if (!(COMPATIBLE[column.sqlType] ?? [column.sqlType]).includes(type.type)) {
          problems.push(`${at}.key.${column.name}: ${expression} is ${type.type}, but key column ${column.name} is ${column.sqlType}`);
        }
      }
    }
    found.push(...problems.map((message) => ({ view: view.name, message })));
  }
  return found;
}

/** The type of `expression` over a row of `table` (a row of NULLs: nothing is read). */
async function expressionType(sql: Queryable, table: string, expression: string, inTransaction: boolean): Promise<{ type: string } | { error: string }> {
  if (inTransaction) await sql.unsafe('SAVEPOINT mvfleet_capture_check');
  try {
    const [row] = await sql.unsafe<[{ type: string }]>(
      `SELECT format_type(pg_typeof(${expression})::oid, NULL) AS type FROM (SELECT (NULL::${quoteIdent(table)}).*) AS row_of_nulls`,
    );
    if (inTransaction) await sql.unsafe('RELEASE SAVEPOINT mvfleet_capture_check');
    return { type: row.type };
  } catch (error) {
    if (inTransaction) await sql.unsafe('ROLLBACK TO SAVEPOINT mvfleet_capture_check');
    return { error: oneLine(error) };
  }
}

/**
 * Makes the database's capture triggers match the catalog, inside the migration transaction:
 * refuses (installing nothing) when a declaration does not fit the database, creates missing
 * triggers, replaces a function whose definition changed (its triggers stay), and removes
 * capture triggers and functions no view declares any more. Changes nothing when everything
 * is in place, so a deploy's `migrate` takes no lock on the app's tables.
 */
export async function installCapture(tx: Queryable, catalog: Catalog): Promise<InstallCaptureResult> {
  const problems = await captureProblems(tx, catalog, true);
  if (problems.length > 0) {
    const lines = problems.map((problem) => `view ${problem.view}: ${problem.message}`);
    throw new MvfleetError(`capture cannot be installed:\n  - ${lines.join('\n  - ')}`);
  }
  const wanted = captureInstalls(catalog);
  const result: InstallCaptureResult = { installed: [], removed: [] };
  const { triggers: present, functions } = await installedCapture(tx, catalog);
  const keep = new Set<string>();
  for (const install of wanted) {
    const [{ oid }] = await tx<[{ oid: number }]>`SELECT to_regclass(${quoteIdent(install.table)})::oid::int AS oid`;
    const names = Object.values(install.triggers);
    for (const name of names) keep.add(`${oid}.${name}`);
    let changed = false;
    if (functions.find((fn) => fn.name === install.functionShortName)?.fingerprint !== install.fingerprint) {
      await tx.unsafe(install.functionSql);
      await tx.unsafe(`COMMENT ON FUNCTION ${quoteQualified(install.functionName)}() IS '${install.fingerprint}'`);
      changed = true;
    }
    for (const [i, name] of names.entries()) {
      if (present.some((trigger) => trigger.oid === oid && trigger.trigger === name)) continue;
      await tx.unsafe(install.triggerSql[i]!);
      changed = true;
    }
    if (changed) result.installed.push(`${install.view} ← ${install.table}`);
  }
  for (const trigger of present) {
    if (keep.has(`${trigger.oid}.${trigger.trigger}`)) continue;
    await tx.unsafe(`DROP TRIGGER ${quoteIdent(trigger.trigger)} ON ${quoteIdent(trigger.schema)}.${quoteIdent(trigger.table)}`);
    result.removed.push(`${trigger.table}.${trigger.trigger}`);
  }
  const wantedFunctions = new Set(wanted.map((install) => install.functionShortName));
  for (const fn of functions) {
    if (!wantedFunctions.has(fn.name)) await tx.unsafe(`DROP FUNCTION ${quoteIdent(catalog.store.schema)}.${quoteIdent(fn.name)}()`);
  }
  return result;
}
