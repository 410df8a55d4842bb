import { sql, type SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { MvfleetError } from '../core/errors.js';

/**
 * A keyed view's defining query is written once, as a function of a `KeyScope`, and
 * rendered twice: over the whole view (full rebuilds, the MV definition, live lists) and
 * restricted to a set of scope keys (targeted refreshes, live key reads).
 *
 * PostgreSQL pushes a single-key equality into pre-aggregated subqueries but not an
 * `= ANY(array)` on the outer query (measured: 375 ms for one key, a full scan), so the
 * restriction must be written into each child aggregate by the view's author:
 * `WHERE ${keys.match('tournament_id', sql`tournament_id`)}`. Those conditions only make
 * the plan index-driven; the engine restricts the result to the exact keys itself.
 */
export interface KeyScope {
  /**
   * A condition keeping rows whose `expression` is one of the scope's values of key column
   * `column`; `TRUE` over the whole view.
   */
  match(column: string, expression: SQL): SQL;
}

/** The whole view: every `match` is `TRUE`. */
export const wholeView: KeyScope = { match: () => sql`TRUE` };

/** A scope key column and its SQL type (e.g. `integer`, `date`), for the array parameter's cast. */
export interface KeyColumn {
  name: string;
  sqlType: string;
}

/**
 * The scope of a set of keys, passed as one array parameter per key column: key column `i`
 * is `$i+1` (`$1::integer[]`), so the rendered text carries no values of its own.
 *
 * With `present`, the keys are partial (a write to `projects` names a project, not a month):
 * only the columns `present` marks are restricted, numbered `$1 …` in key order among them;
 * every other column's `match` is `TRUE`.
 */
export function keySetScope(view: string, keyColumns: readonly KeyColumn[], present?: readonly boolean[]): KeyScope {
  return {
    match(column, expression) {
      const index = keyColumns.findIndex((key) => key.name === column);
      if (index < 0) {
        throw new MvfleetError(
          `catalog view ${view}: keys.match('${column}') names no scope key column (${keyColumns.map((key) => key.name).join(', ')})`,
        );
      }
      if (present && !present[index]) return sql`TRUE`;
      const parameter = present ? present.slice(0, index + 1).filter(Boolean).length : index + 1;
      return sql`${expression} = ANY(${sql.raw(`$${parameter}::${keyColumns[index]!.sqlType}[]`)})`;
    },
  };
}

const dialect = new PgDialect();

/**
 * SQL text of a Drizzle query, as PostgreSQL receives it. A view definition carries no values:
 * an interpolated value would become `$1`, colliding with the key parameters.
 */
export function render(query: SQL): string {
  const { sql: text, params } = dialect.sqlToQuery(query);
  if (params.length > 0) {
    throw new MvfleetError(`a view definition must not interpolate values (found ${params.length}); write them into the SQL`);
  }
  return text.trim();
}
