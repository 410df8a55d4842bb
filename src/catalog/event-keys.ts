import type { CatalogView, KeyField } from './catalog.js';
import { UsageError } from '../core/errors.js';
import { arrayLiteral } from '../core/pg-values.js';

/**
 * A scope key's values in scope-key order, in a canonical form (integers as numbers, dates
 * as `YYYY-MM-DD`, everything else as text) so that the same key is the same JSON wherever
 * it was recorded: `mv_dirty_keys.key` is this tuple as jsonb.
 */
export type KeyTuple = (string | number)[];

/**
 * A key as drained from `mv_dirty_keys`: a {@link KeyTuple}, or a partial key whose null
 * values match every value of their column (a capture that maps part of the scope key
 * records one: a write to `projects` touches every month of the project). At least one
 * value is given.
 */
export type KeyPattern = (string | number | null)[];

/** Which columns of a key pattern are given (not "every value"). */
export const presentColumns = (key: KeyPattern): boolean[] => key.map((value) => value !== null);

/** Whether `key` (a full key) matches `pattern`. */
export const matchesPattern = (key: KeyPattern, pattern: KeyPattern): boolean =>
  pattern.every((value, index) => value === null || value === key[index]);

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The largest value of each PostgreSQL integer type that a JS number holds exactly. */
const INTEGER_MAX: Readonly<Record<string, number>> = {
  smallint: 32_767,
  integer: 2_147_483_647,
  bigint: Number.MAX_SAFE_INTEGER,
};

/** A real calendar day in PostgreSQL's range: `2026-02-30` and `0000-01-01` are not. */
function isCalendarDate(text: string): boolean {
  if (!DATE.test(text) || text.startsWith('0000')) return false;
  const day = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(day.getTime()) && day.toISOString().slice(0, 10) === text;
}

/**
 * Converts one key value to its canonical form for a column of `sqlType`, or returns a
 * description of what was expected. A value accepted here must cast to `sqlType`: a key that
 * cannot would make every refresh of the view fail on its `$n::type[]` parameter.
 */
export function canonicalKeyValue(sqlType: string, value: unknown): { value: string | number } | { expected: string } {
  const max = Object.hasOwn(INTEGER_MAX, sqlType) ? INTEGER_MAX[sqlType]! : undefined;
  if (max !== undefined) {
    const min = sqlType === 'bigint' ? -max : -max - 1;
    // The reader takes bigint keys as digit strings too.
    if (sqlType === 'bigint' && typeof value === 'string' && /^-?\d+$/.test(value)) value = Number(value);
    return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max
      ? { value }
      : { expected: `an integer from ${min} to ${max}` };
  }
  if (sqlType === 'date') {
    const text = value instanceof Date && !Number.isNaN(value.getTime()) ? value.toISOString().slice(0, 10) : value;
    return typeof text === 'string' && isCalendarDate(text) ? { value: text } : { expected: 'a date YYYY-MM-DD' };
  }
  if (typeof value === 'string' || typeof value === 'number') return { value: String(value) };
  return { expected: 'a string' };
}

function describe(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value) ?? String(value);
}

/**
 * The key of `view` that `event` touches, read from its payload; `null` when the view is not
 * keyed or the event refreshes the whole view.
 * @throws UsageError naming the missing or malformed payload field.
 */
export function eventKey(view: CatalogView, event: string, payload: Readonly<Record<string, unknown>>): KeyTuple | null {
  const fields = view.keyed?.eventKeys[event];
  if (!view.keyed || !fields) return null;
  return view.keyed.scopeKey.map((column) => {
    const spec: KeyField = fields[column.name]!;
    const field = typeof spec === 'string' ? spec : spec.field;
    const raw = payload[field];
    if (raw === undefined || raw === null) {
      throw new UsageError(`invalid payload for ${event}: ${field} is required (${view.name} is refreshed by its ${column.name})`);
    }
    let converted: unknown = raw;
    if (typeof spec !== 'string') {
      try {
        converted = spec.convert(raw);
      } catch (error) {
        throw new UsageError(`invalid payload for ${event}: ${field} ${(error as Error).message}`, { cause: error });
      }
    }
    const canonical = canonicalKeyValue(column.sqlType, converted);
    if ('expected' in canonical) {
      throw new UsageError(`invalid payload for ${event}: ${field} must be ${canonical.expected} (got ${describe(raw)})`);
    }
    return canonical.value;
  });
}

/**
 * Splits tuples drained from `mv_dirty_keys` into key patterns of the view's current scope
 * key and the rest (recorded by an older producer under another scope, or written by hand):
 * a malformed key must not fail every refresh of the view.
 */
export function partitionKeys(view: CatalogView, tuples: readonly unknown[]): { valid: KeyPattern[]; invalid: unknown[] } {
  const scope = view.keyed!.scopeKey;
  const valid: KeyPattern[] = [];
  const invalid: unknown[] = [];
  for (const tuple of tuples) {
    const ok =
      Array.isArray(tuple) &&
      tuple.length === scope.length &&
      tuple.some((value) => value !== null) &&
      scope.every((column, index) => {
        if (tuple[index] === null) return true;
        const canonical = canonicalKeyValue(column.sqlType, tuple[index]);
        return 'value' in canonical && canonical.value === tuple[index];
      });
    if (ok) valid.push(tuple as KeyPattern);
    else invalid.push(tuple);
  }
  return { valid, invalid };
}

/**
 * Key patterns as one array per scope key column: the parameters of `CatalogKeys.keyedSql`
 * (a partial key's missing values are NULL). Sent as array literals, so that a client whose
 * date-array serializer Drizzle replaced can send them. With `present`, only those columns.
 */
export function keyColumnsOf(view: CatalogView, keys: readonly KeyPattern[], present?: readonly boolean[]): string[] {
  return view.keyed!.scopeKey.flatMap((_, index) => (present && !present[index] ? [] : [arrayLiteral(keys.map((key) => key[index]!))]));
}

/**
 * Key patterns grouped by the columns they give (full keys in one group, each partial shape
 * in another), with the keys a partial key of the set already covers left out.
 */
export function groupByShape(keys: readonly KeyPattern[]): { present: boolean[]; keys: KeyPattern[] }[] {
  const partial = keys.filter((key) => key.includes(null));
  const groups = new Map<string, { present: boolean[]; keys: KeyPattern[] }>();
  for (const key of keys) {
    if (partial.some((pattern) => pattern !== key && matchesPattern(key, pattern) && !matchesPattern(pattern, key))) continue;
    const present = presentColumns(key);
    const shape = present.map(Number).join('');
    let group = groups.get(shape);
    if (!group) groups.set(shape, (group = { present, keys: [] }));
    group.keys.push(key);
  }
  return [...groups.values()];
}
