import type { Registry } from 'prom-client';
import type { Catalog } from '../catalog/catalog.js';
import type { Queryable } from '../core/db.js';
import { ConfigError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { OrderBy } from './read-conditions.js';
import { InvalidReadError } from './read-errors.js';

/** Options for {@link createReader}. */
export interface ReaderOptions {
  /** Client the reads run on (a pool; the reader does not close it). */
  sql: Queryable;
  /** The views the reader may read. */
  catalog: Catalog;
  /**
   * Registry for `mvfleet_reads_total` and `mvfleet_read_duration_seconds`; pass the one
   * the dashboard serves on `/metrics`.
   * @defaultValue a private registry (reads are still counted, just not exported)
   */
  registry?: Registry;
  /**
   * Gets one debug line per read: view, source, age and duration.
   * @defaultValue a silent logger
   */
  logger?: Logger;
  /**
   * How long a view's freshness (its `as_of`) is reused before the refresh log is asked
   * again, in milliseconds. 0 asks on every read.
   * @defaultValue 1000
   */
  freshnessCacheMs?: number;
  /**
   * The clock ages and the freshness cache are measured with.
   * @defaultValue () => new Date()
   */
  now?: () => Date;
}

/** Options of {@link Reader.get}. */
export interface GetOptions {
  /**
   * Oldest MV answer accepted, in minutes; an older MV is bypassed for the live query.
   * @defaultValue the view's `freshForMinutes` from the catalog
   */
  maxAgeMinutes?: number;
  /**
   * Always run the live query (the source documents' `force_refresh`).
   * @defaultValue false
   */
  live?: boolean;
}

/** Options of {@link Reader.list}. */
export interface ListOptions extends GetOptions {
  /**
   * Most rows returned.
   * @defaultValue 1000
   */
  limit?: number;
  /**
   * Sort order; the view's unique key is always appended, ascending, so results are stable.
   * @defaultValue the unique key, ascending
   */
  orderBy?: OrderBy | readonly OrderBy[];
}

export const readerDefaults = {
  freshnessCacheMs: 1000,
  now: () => new Date(),
} satisfies Partial<ReaderOptions>;

export const listDefaults = { limit: 1000 } satisfies ListOptions;

/** Largest `limit` a list accepts; more rows belong in a paginated or streaming query. */
export const MAX_LIST_LIMIT = 100_000;

/** Checks reader options; lists every problem in one {@link ConfigError}. */
export function validateReaderOptions(options: ReaderOptions): void {
  const problems: string[] = [];
  const given = (options ?? {}) as Partial<Record<keyof ReaderOptions, unknown>>;
  if (typeof given.sql !== 'function' || typeof (given.sql as { unsafe?: unknown }).unsafe !== 'function') {
    problems.push('sql must be a postgres.js client');
  }
  const catalog = given.catalog as Partial<Catalog> | undefined;
  if (!catalog || typeof catalog.get !== 'function' || !Array.isArray(catalog.views)) problems.push('catalog must be a Catalog');
  if (given.registry !== undefined && typeof (given.registry as Partial<Registry>).getSingleMetric !== 'function') {
    problems.push('registry must be a prom-client Registry');
  }
  if (given.logger !== undefined && typeof (given.logger as Partial<Logger>).debug !== 'function') {
    problems.push('logger must be a pino logger');
  }
  const cacheMs = given.freshnessCacheMs;
  if (cacheMs !== undefined && !(typeof cacheMs === 'number' && Number.isFinite(cacheMs) && cacheMs >= 0)) {
    problems.push(`freshnessCacheMs must be a number >= 0 (got ${String(cacheMs)})`);
  }
  if (given.now !== undefined && typeof given.now !== 'function') problems.push('now must be a function returning a Date');
  if (problems.length > 0) throw new ConfigError(`createReader: ${problems.join('; ')}`);
}

/** Checks the options of one read before any query is sent. */
export function validateReadOptions(view: string, options: ListOptions, kind: 'get' | 'list'): void {
  const fail = (message: string): never => {
    throw new InvalidReadError(`${kind} ${view}: ${message}`);
  };
  const { maxAgeMinutes, live, limit } = options;
  if (maxAgeMinutes !== undefined && !(typeof maxAgeMinutes === 'number' && maxAgeMinutes >= 0 && !Number.isNaN(maxAgeMinutes))) {
    fail(`maxAgeMinutes must be a number >= 0 (got ${String(maxAgeMinutes)})`);
  }
  if (live !== undefined && typeof live !== 'boolean') fail(`live must be a boolean (got ${String(live)})`);
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= MAX_LIST_LIMIT)) {
    fail(`limit must be an integer from 1 to ${MAX_LIST_LIMIT} (got ${String(limit)})`);
  }
}
