import type { Queryable } from 'mvfleet';
import type { DomainTable } from './domain-tables.js';

/**
 * Every generated date is relative to this day (not `now()`), so a seed number always
 * yields the same rows whenever it runs.
 */
export const ANCHOR_DATE = '2026-11-01';
/** Midnight UTC of {@link ANCHOR_DATE}, spelled with its offset so the session time zone cannot shift it. */
export const ANCHOR_TIMESTAMP = `${ANCHOR_DATE} 00:00:00+00`;

/** What a domain loader needs: the seeding transaction, the seed number and a progress sink. */
export interface SeedContext {
  /** The seeding transaction; `pg_temp.rnd` and `pg_temp.pick` exist on it (see hash-random.ts). */
  sql: Queryable;
  seed: number;
  report(step: string, done: number, total: number): void;
}

/** Rows inserted per table by a loader. */
export type RowCounts = Partial<Record<DomainTable, number>>;
