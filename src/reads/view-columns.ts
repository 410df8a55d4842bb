import type { CatalogView } from '../catalog/catalog.js';

/** How the reader checks a value for a column and converts it into a query parameter. */
export type ColumnKind = 'integer' | 'bigint' | 'numeric' | 'text' | 'date' | 'timestamp' | 'boolean' | 'other';

/** One column of a view, as declared in its Drizzle definition. */
export interface ViewColumn {
  name: string;
  kind: ColumnKind;
  /** Drizzle's `columnType`, e.g. `PgInteger`, shown in error messages. */
  columnType: string;
  /** A `date` column Drizzle types as a string (`mode: 'string'`, its default). */
  dateAsString: boolean;
}

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
          dateAsString: field.columnType === 'PgDateString',
        },
      ]),
    );
    cache.set(view, columns);
  }
  return columns;
}
