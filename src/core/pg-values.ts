/**
 * Values to and from PostgreSQL whatever the postgres.js client's type parsers and serializers.
 *
 * mvfleet runs its queries on the client an app hands it, often the one the app also gives
 * Drizzle, and drizzle-orm's postgres-js driver replaces that client's parsers and
 * serializers of dates and timestamps (and of their arrays), and its JSON serializers, with
 * pass-throughs: such results come back as PostgreSQL's text, and a `Date`, an array of dates
 * or an object sent as such a parameter fails with a TypeError. An app's client also returns
 * int8 as text, where `createDb` parses it. So mvfleet:
 * - sends a timestamp as ISO 8601 text with an explicit `::timestamptz` cast, never a `Date`;
 * - reads timestamps through {@link toDate};
 * - casts integers it reads in SQL (`::int`, or `::float8` for int8: exact up to 2^53);
 * - sends arrays of key values as {@link arrayLiteral}s, and JSON as text (`::text::jsonb`).
 */

/**
 * A `timestamptz` (or `date`) result as a `Date`, whether the client parsed it already or
 * returned PostgreSQL's text (parsed as postgres.js itself would).
 */
export function toDate(value: Date | string): Date;
export function toDate(value: Date | string | null): Date | null;
export function toDate(value: Date | string | null): Date | null {
  return value === null || value instanceof Date ? value : new Date(value);
}

/**
 * Values as an array parameter in PostgreSQL's text form (`{"7","2026-03-01",NULL}`), for a
 * `$n::type[]` cast: no array serializer of the client is involved.
 */
export function arrayLiteral(values: readonly (string | number | null)[]): string {
  return `{${values.map((value) => (value === null ? 'NULL' : `"${String(value).replace(/["\\]/g, '\\$&')}"`)).join(',')}}`;
}
