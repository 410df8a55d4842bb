import type { CatalogView } from '../catalog/catalog.js';
import { toParameter, type Parameter } from './column-values.js';
import { InvalidReadError } from './read-errors.js';
import { viewColumns, type ViewColumn } from './view-columns.js';

/** A scalar key value, accepted for views whose unique key has one column. */
export type KeyValue = string | number | bigint | boolean | Date;

/** A row key: a scalar for a one-column key, or every key column by name (`{ project_id: 7, month: '2026-03-01' }`). */
export type RowKey = KeyValue | Readonly<Record<string, unknown>>;

/** Equality filter on view columns; `null` matches SQL NULL. */
export type RowFilter = Readonly<Record<string, unknown>>;

/** `column = value`, or `column IS NULL` when `value` is null. */
export interface Condition {
  column: string;
  value: Parameter | null;
}

/** A column to sort a list by. */
export type OrderBy = string | { column: string; direction?: 'asc' | 'desc' };

/** A validated sort term. */
export interface SortTerm {
  column: string;
  direction: 'asc' | 'desc';
}

/** Turns a `get` key into one condition per unique-key column; throws before any query. */
export function keyConditions(view: CatalogView, key: RowKey): Condition[] {
  const where = `key of ${view.name}`;
  const columns = viewColumns(view);
  const keyColumns = view.uniqueKey.map((name) => columns.get(name)!);
  if (!isPlainObject(key)) {
    if (keyColumns.length !== 1) {
      throw new InvalidReadError(`${where} must be an object with ${view.uniqueKey.join(', ')} (got ${typeof key} ${String(key)})`);
    }
    return [{ column: keyColumns[0]!.name, value: requiredValue(keyColumns[0]!, key, where) }];
  }
  const extra = Object.keys(key).filter((name) => !view.uniqueKey.includes(name));
  const missing = view.uniqueKey.filter((name) => !Object.hasOwn(key, name) || key[name] === undefined);
  if (extra.length > 0 || missing.length > 0) {
    const problems = [
      missing.length > 0 ? `missing ${missing.join(', ')}` : '',
      extra.length > 0 ? `${extra.join(', ')} not part of the key` : '',
    ].filter(Boolean);
    throw new InvalidReadError(`${where} must have exactly ${view.uniqueKey.join(', ')} (${problems.join('; ')})`);
  }
  return keyColumns.map((column) => ({ column: column.name, value: requiredValue(column, key[column.name], where) }));
}

/** Turns a `list` filter into conditions; unknown columns are refused before any query. */
export function filterConditions(view: CatalogView, filter: RowFilter): Condition[] {
  const where = `filter on ${view.name}`;
  if (!isPlainObject(filter)) throw new InvalidReadError(`${where} must be an object of column values (got ${typeof filter})`);
  const columns = viewColumns(view);
  const unknown = Object.keys(filter).filter((name) => !columns.has(name));
  if (unknown.length > 0) {
    throw new InvalidReadError(`${where}: unknown column ${unknown.join(', ')} (columns: ${[...columns.keys()].join(', ')})`);
  }
  return Object.entries(filter)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => ({
      column: name,
      value: value === null ? null : toParameter(columns.get(name)!, value, where),
    }));
}

/** Validates sort terms; the unique key always follows as a tie-breaker so pages are stable. */
export function sortTerms(view: CatalogView, orderBy: OrderBy | readonly OrderBy[] | undefined): SortTerm[] {
  const columns = viewColumns(view);
  const requested = orderBy === undefined ? [] : Array.isArray(orderBy) ? (orderBy as readonly OrderBy[]) : [orderBy as OrderBy];
  const terms: SortTerm[] = requested.map((term) => {
    const { column, direction = 'asc' } = typeof term === 'string' ? { column: term } : term;
    if (!columns.has(column)) {
      throw new InvalidReadError(`orderBy on ${view.name}: unknown column ${column} (columns: ${[...columns.keys()].join(', ')})`);
    }
    if (direction !== 'asc' && direction !== 'desc') {
      throw new InvalidReadError(`orderBy on ${view.name}: direction of ${column} must be 'asc' or 'desc' (got ${String(direction)})`);
    }
    return { column, direction };
  });
  for (const column of view.uniqueKey) {
    if (!terms.some((term) => term.column === column)) terms.push({ column, direction: 'asc' });
  }
  return terms;
}

function requiredValue(column: ViewColumn, value: unknown, where: string): Parameter {
  if (value === null || value === undefined) throw new InvalidReadError(`${where}: ${column.name} must not be ${value}`);
  return toParameter(column, value, where);
}

function isPlainObject(value: unknown): value is Readonly<Record<string, unknown>> {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Date) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
