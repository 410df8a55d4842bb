import { toDate } from '../core/pg-values.js';
import { InvalidReadError } from './read-errors.js';
import type { ViewColumn } from './view-columns.js';

/** A value sent as a query parameter. */
export type Parameter = string | number | boolean | Date;

const INT32_MIN = -2_147_483_648;
const INT32_MAX = 2_147_483_647;
const NUMERIC_TEXT = /^-?\d+(\.\d+)?$/;
const INTEGER_TEXT = /^-?\d+$/;
const DATE_TEXT = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * Checks a key or filter value against the column's declared type and returns it as a
 * query parameter. Strict on purpose: `'7'` for an integer key is a caller bug (often an
 * unparsed route parameter), so it is refused rather than coerced.
 *
 * @param where names the value in the error message, e.g. `key of mv_x`.
 * @throws InvalidReadError naming the view, the column, the expected type and the value.
 */
export function toParameter(column: ViewColumn, value: unknown, where: string): Parameter {
  const fail = (expected: string): never => {
    throw new InvalidReadError(`${where}: ${column.name} must be ${expected} (got ${describe(value)})`);
  };
  switch (column.kind) {
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < INT32_MIN || value > INT32_MAX) {
        return fail('an integer from -2147483648 to 2147483647');
      }
      return value;
    case 'bigint':
      if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
      if (typeof value === 'bigint') return value.toString();
      if (typeof value === 'string' && INTEGER_TEXT.test(value)) return value;
      return fail('an integer (a safe integer number, a bigint or a string of digits)');
    case 'numeric':
      if (typeof value === 'number' && Number.isFinite(value)) return String(value);
      if (typeof value === 'string' && NUMERIC_TEXT.test(value)) return value;
      return fail('a finite number or a decimal string');
    case 'text':
      if (typeof value !== 'string') return fail('a string');
      return value;
    case 'date':
      if (value instanceof Date && !Number.isNaN(value.getTime())) return value.toISOString().slice(0, 10);
      if (typeof value === 'string' && isCalendarDate(value)) return value;
      return fail("a date 'YYYY-MM-DD'");
    case 'timestamp':
      if (value instanceof Date && !Number.isNaN(value.getTime())) return value;
      if (typeof value === 'string' && !Number.isNaN(Date.parse(value))) return value;
      return fail('a Date or an ISO 8601 timestamp string');
    case 'boolean':
      if (typeof value !== 'boolean') return fail('a boolean');
      return value;
    case 'other':
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
      return fail(`a string, number or boolean (column type ${column.columnType})`);
  }
}

/**
 * Converts a row as the client returns it into the types Drizzle declares for the view,
 * whatever the client's parsers (see core/pg-values.ts): postgres.js returns a `date` as a
 * `Date` at UTC midnight where Drizzle types it as a `'YYYY-MM-DD'` string (a calendar day has
 * no time zone to get wrong); a client set up by Drizzle returns dates and timestamps as text;
 * a client without an int8 parser returns `bigint` columns as text.
 */
export function toDeclaredTypes<Row extends Record<string, unknown>>(
  row: Record<string, unknown>,
  columns: readonly ViewColumn[],
): Row {
  for (const { name, declared } of columns) {
    const value = row[name];
    if (value === null || value === undefined) continue;
    if (declared === 'date-text' && value instanceof Date) row[name] = value.toISOString().slice(0, 10);
    else if (declared === 'Date') row[name] = toDate(value as Date | string);
    else if (declared === 'number') row[name] = Number(value);
  }
  return row as Row;
}

function isCalendarDate(text: string): boolean {
  const match = DATE_TEXT.exec(text);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

function describe(value: unknown): string {
  if (value instanceof Date) return `Date ${Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString()}`;
  if (typeof value === 'bigint') return `${value}n`;
  if (value === undefined) return 'undefined';
  const text = JSON.stringify(value) ?? String(value);
  return `${typeof value} ${text.length > 60 ? `${text.slice(0, 57)}...` : text}`;
}
