import type { Queryable } from 'mvfleet';

/**
 * Creates the deterministic pseudo-random helpers the loaders call, on the seeding
 * connection only (`pg_temp` lives as long as the session):
 *
 * - `pg_temp.rnd(seed, stream, i)`: a uniform double in [0, 1) for row `i`; every column
 *   draws from its own `stream` so that columns are independent of each other.
 * - `pg_temp.pick(items, r)`: the element of `items` that `r` in [0, 1) falls on.
 *
 * `random()` is never used: the same seed must give byte-identical data. Both functions are
 * plain SQL expressions so the planner inlines them into the INSERT … SELECT.
 */
export async function createHashRandom(sql: Queryable): Promise<void> {
  await sql`
    CREATE OR REPLACE FUNCTION pg_temp.rnd(seed bigint, stream int, i bigint) RETURNS double precision
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT (hashint8extended(i, seed * 1000 + stream) & 2147483647)::float8 / 2147483648 $$
  `;
  await sql`
    CREATE OR REPLACE FUNCTION pg_temp.pick(items text[], r double precision) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT items[1 + floor(r * cardinality(items))::int] $$
  `;
}

/** Drops the helpers again, so a pooled connection does not carry them into other work. */
export async function dropHashRandom(sql: Queryable): Promise<void> {
  await sql`DROP FUNCTION IF EXISTS pg_temp.rnd(bigint, int, bigint), pg_temp.pick(text[], double precision)`;
}
