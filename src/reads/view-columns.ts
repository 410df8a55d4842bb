import type { CatalogView } from '../catalog/catalog.js';

/** How the reader checks a value for a column and converts it into a query parameter. */
export type ColumnKind = 'integer' | 'bigint' | 'numeric' | 'text' | 'date' | 'timestamp' | 'boolean' | 'other';

/** One column of a view, as declared in its Drizzle definition. */
export interface ViewColumn {
  name: string;
  kind: ColumnKind;
  /** Drizzle's `columnType`, e.g. `PgInteger`, shown in error messages. */
  columnType: string;
  /**
   * The type Drizzle declares for the column's values where a client may return another:
   * `date-text` for a `date` typed as `'YYYY-MM-DD'` (`mode: 'string'`, its default), `Date`
   * for a `date` or `timestamp` typed as a `Date`, `number` for a `bigint` typed as a number;
   * null for columns whose values are returned as the client gives them.
   */
  declared: DeclaredType | null;
}

/** See {@link ViewColumn.declared}. */
export type DeclaredType = 'date-text' | 'Date' | 'number';

const KIND_BY_COLUMN_TYPE: Readonly<Record<string, ColumnKind>> = {
  PgInteger: 'integer',
  PgSmallInt: 'integer',
  PgSerial: 'integer',
  PgSmallSerial: 'integer',
  PgBigInt53: 'bigint',
  PgBigInt64: 'bigint',
  PgBigSerial53: 'bigint',
  PgBigSerial64: 'bigint',
  PgNumeric: 'numeric',
  PgReal: 'numeric',
  PgDoublePrecision: 'numeric',
  PgText: 'text',
  PgVarchar: 'text',
  PgChar: 'text',
  PgUUID: 'text',
  PgDate: 'date',
  PgDateString: 'date',
  PgTimestamp: 'timestamp',
  PgTimestampString: 'timestamp',
  PgBoolean: 'boolean',
};

const DECLARED_BY_COLUMN_TYPE: Readonly<Record<string, DeclaredType>> = {
  PgDateString: 'date-text',
  PgDate: 'Date',
  PgTimestamp: 'Date',
  PgBigInt53: 'number',
  PgBigSerial53: 'number',
};

const cache = new WeakMap<CatalogView, ReadonlyMap<string, ViewColumn>>();

/** The columns of a catalog view by name, in view order, from its Drizzle definition. */
export function viewColumns(view: CatalogView): ReadonlyMap<string, ViewColumn> {
  let columns = cache.get(view);
  if (!columns) {
    const fields = view.fields;
    columns = new Map(
      fields.map((field) => [
        field.name,
        {
          name: field.name,
          kind: KIND_BY_COLUMN_TYPE[field.columnType] ?? 'other',
          columnType: field.columnType,
          declared: DECLARED_BY_COLUMN_TYPE[field.columnType] ?? null,
        },
      ]),
    );
    cache.set(view, columns);
  }
  return columns;
}
