import type { CatalogView } from '../catalog/catalog.js';
import type { Sql } from '../core/db.js';
import { MvfleetError, sqlStateOf } from '../core/errors.js';
import { quoteIdent } from '../core/identifiers.js';
import { freshnessStatement } from '../reads/read-sql.js';
import { recordedKeyMatches } from './keyed-refresh-sql.js';
import { quoteQualified, type EngineStore } from '../store/engine-schema.js';

/** Thrown for a view without a complete build: there is nothing to compare yet. */
export class NotPopulatedError extends MvfleetError {}

/** How a view's stored rows differ from its definition computed now. */
export interface VerifyResult {
  view: string;
  /** Rows stored in the view. */
  rows: number;
  /** Unique keys whose stored row differs from the definition's (changed + missing + extra). */
  differences: number;
  /** Stored, but with other values than the definition gives. */
  changed: number;
  /** In the definition, not stored. */
  missing: number;
  /** Stored, gone from the definition. */
  extra: number;
  /** Differences in keys an event touched and no refresh has recomputed yet: expected, not drift. */
  pending: number;
  /** Up to 10 differing unique keys. */
  samples: Record<string, unknown>[];
}

/**
 * Compares a view's stored rows with its defining query, both read from one snapshot (a
 * read-only REPEATABLE READ transaction), keyed by the view's unique key. A difference outside
 * the keys waiting for a refresh is a change whose event never came (or a lost write).
 */
export async function verifyView(sql: Sql, store: EngineStore, view: CatalogView): Promise<VerifyResult> {
  const columns = view.columns.map(quoteIdent).join(', ');
  // A table stores values in its declared types (e.g. its numeric scale): compare in those.
  const freshColumns =
    view.storage === 'table'
      ? view.fields.map((field) => `d.${quoteIdent(field.name)}::${field.getSQLType()} AS ${quoteIdent(field.name)}`).join(', ')
      : columns;
  const unique = view.uniqueKey.map(quoteIdent).join(', ');
  // A waiting key, or a partial key (null values) matching the row's key.
  const pendingKey = view.keyed
    ? `EXISTS (SELECT 1 FROM ${quoteQualified(store.dirtyKeys)} AS r WHERE r.view_name = $1 AND ${recordedKeyMatches(view, 'r')})`
    : 'false';
  const text = `
    WITH fresh AS MATERIALIZED (SELECT ${freshColumns} FROM (${view.definitionSql}) AS d),
    stored AS MATERIALIZED (SELECT ${columns} FROM ${quoteIdent(view.name)}),
    sides AS (
      SELECT ${unique}, 's' AS side FROM (SELECT * FROM stored EXCEPT SELECT * FROM fresh) AS only_stored
      UNION ALL
      SELECT ${unique}, 'f' AS side FROM (SELECT * FROM fresh EXCEPT SELECT * FROM stored) AS only_fresh
    ),
    diff AS (
      SELECT ${unique}, bool_or(side = 's') AS in_stored, bool_or(side = 'f') AS in_fresh
      FROM sides GROUP BY ${unique}
    )
    SELECT (SELECT count(*) FROM stored)::float8 AS rows,
           count(*)::float8 AS differences,
           count(*) FILTER (WHERE in_stored AND in_fresh)::float8 AS changed,
           count(*) FILTER (WHERE in_fresh AND NOT in_stored)::float8 AS missing,
           count(*) FILTER (WHERE in_stored AND NOT in_fresh)::float8 AS extra,
           count(*) FILTER (WHERE ${pendingKey})::float8 AS pending,
           COALESCE((SELECT jsonb_agg(to_jsonb(k)) FROM (SELECT ${unique} FROM diff ORDER BY ${unique} LIMIT 10) AS k), '[]')
             AS samples
    FROM diff`;
  const notPopulated = (cause?: unknown) =>
    new NotPopulatedError(`cannot verify ${view.name}: it is not populated yet (refresh it first)`, { cause });
  try {
    return await sql.begin('isolation level repeatable read read only', async (tx) => {
      // An empty table that was never built would report every row missing; say what it is instead.
      const freshness = freshnessStatement(store, view);
      const [state] = await tx.unsafe<[{ populated: boolean | null }]>(freshness.text, freshness.params);
      if (state.populated === false) throw notPopulated();
      const [row] = await tx.unsafe<[Omit<VerifyResult, 'view'>]>(text, view.keyed ? [view.name] : []);
      return { view: view.name, ...row };
    });
  } catch (error) {
    if (sqlStateOf(error) === '55000') throw notPopulated(error);
    throw error;
  }
}
