import { Registry } from 'prom-client';
import type { Catalog, CatalogView } from '../catalog/catalog.js';
import type { Queryable } from '../core/db.js';
import { MvfleetError } from '../core/errors.js';
import { canonicalKeyValue, type KeyTuple } from '../catalog/event-keys.js';
import { isDirty } from '../store/dirty-keys.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { toDeclaredTypes } from './column-values.js';
import { createFreshnessCache, type FreshnessCache } from './freshness-cache.js';
import { createReadMetrics, type ReadMetrics, type ReadSource } from './read-metrics.js';
import {
  filterConditions,
  keyConditions,
  sortTerms,
  type RowFilter,
  type RowKey,
} from './read-conditions.js';
import { liveStatement, materializedStatement, type RowQuery } from './read-sql.js';
import {
  listDefaults,
  readerDefaults,
  validateReaderOptions,
  validateReadOptions,
  type GetOptions,
  type ListOptions,
  type ReaderOptions,
} from './reader-options.js';
import { viewColumns } from './view-columns.js';

/** Where an answer came from and how old it is (design.md, "Reads"). */
export interface CacheInfo {
  /**
   * `materialized`: read from the view's stored rows (MV or maintained table); `live`: computed
   * now by the view's defining query; `live_pending`: computed now because the key waits for a
   * targeted refresh.
   */
  source: ReadSource;
  /** ISO 8601. The MV's last successful refresh start for MV answers, the query time for live ones. */
  as_of: string;
  /** Age of the answer in minutes, two decimals; 0 for live answers. */
  age_minutes: number;
}

/** A read's answer: the data and its {@link CacheInfo}. */
export interface ReadResult<Data> {
  data: Data;
  cache: CacheInfo;
}

/** A row with the view's column names; types as Drizzle declares them (numeric → string, date → 'YYYY-MM-DD'). */
export type ViewRow = Record<string, unknown>;

/** Freshness-aware reads of catalog views. */
export interface Reader extends AsyncDisposable {
  /**
   * One row by the view's unique key, or `null` when there is none. A key of a keyed view
   * that an event touched and no refresh has recomputed yet is read live
   * (`cache.source: 'live_pending'`): the caller sees its own writes.
   * @param key a scalar for a one-column key, else an object with every key column.
   * @throws UnknownNameError / InvalidReadError, before any query, for an unknown view or a bad key.
   */
  get<Row extends ViewRow = ViewRow>(view: string, key: RowKey, options?: GetOptions): Promise<ReadResult<Row | null>>;
  /**
   * Rows matching an equality filter on view columns (`null` matches NULL).
   * @throws UnknownNameError / InvalidReadError, before any query, for an unknown view or column.
   */
  list<Row extends ViewRow = ViewRow>(view: string, filter: RowFilter, options?: ListOptions): Promise<ReadResult<Row[]>>;
  /** Forgets cached freshness; later reads are refused. Does not close `sql`. */
  close(): Promise<void>;
}

/** SQLSTATE of reading an MV that has not been populated. */
const NOT_POPULATED = '55000';
const MINUTE_MS = 60_000;

/**
 * Creates a reader: answers from the MV while it is fresh enough, from the view's own
 * defining query (restricted to the requested rows) when it is not, and says which.
 */
export function createReader(options: ReaderOptions): Reader {
  validateReaderOptions(options);
  const { sql, catalog, freshnessCacheMs, now } = { ...readerDefaults, ...stripUndefined(options) };
  const logger = options.logger ?? silentLogger();
  const metrics = createReadMetrics(options.registry ?? new Registry());
  const freshness = createFreshnessCache({ sql, store: catalog.store, ttlMs: freshnessCacheMs, now });
  let closed = false;

  const context: ReadContext = { sql, catalog, freshness, metrics, logger, now };

  const prepare = (viewName: string, readOptions: ListOptions, kind: 'get' | 'list') => {
    if (closed) throw new MvfleetError(`${kind} ${viewName}: the reader is closed`);
    const view = catalog.get(viewName);
    validateReadOptions(view.name, readOptions, kind);
    return view;
  };
  const close = async () => {
    closed = true;
    freshness.clear();
  };

  return {
    async get<Row extends ViewRow>(viewName: string, key: RowKey, readOptions: GetOptions = {}) {
      const view = prepare(viewName, readOptions, 'get');
      const conditions = keyConditions(view, key);
      const query: RowQuery = { conditions, sort: [], limit: null };
      const { rows, cache } = await read<Row>(context, view, query, readOptions, scopeKeyOf(view, conditions));
      return { data: rows[0] ?? null, cache };
    },
    async list<Row extends ViewRow>(viewName: string, filter: RowFilter, readOptions: ListOptions = {}) {
      const view = prepare(viewName, readOptions, 'list');
      const query: RowQuery = {
        conditions: filterConditions(view, filter),
        sort: sortTerms(view, readOptions.orderBy),
        limit: readOptions.limit ?? listDefaults.limit,
      };
      const { rows, cache } = await read<Row>(context, view, query, readOptions);
      return { data: rows, cache };
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

interface ReadContext {
  sql: Queryable;
  catalog: Catalog;
  freshness: FreshnessCache;
  metrics: ReadMetrics;
  logger: Logger;
  now: () => Date;
}

async function read<Row extends ViewRow>(
  context: ReadContext,
  view: CatalogView,
  query: RowQuery,
  options: GetOptions,
  scopeKey: KeyTuple | null = null,
): Promise<{ rows: Row[]; cache: CacheInfo }> {
  const started = performance.now();
  const maxAgeMinutes = options.maxAgeMinutes ?? view.freshForMinutes;
  let answer: { rows: Record<string, unknown>[]; cache: CacheInfo } | undefined;

  if (options.live !== true) {
    const { populated, asOf } = await context.freshness.get(view);
    const ageMinutes = asOf ? Math.max(0, (context.now().getTime() - asOf.getTime()) / MINUTE_MS) : Infinity;
    if (populated && asOf && ageMinutes <= maxAgeMinutes) {
      if (scopeKey && (await isDirty(context.sql, context.catalog.store, view.name, scopeKey))) {
        answer = await readLive(context, view, query, 'live_pending');
      } else {
        answer = await readMaterialized(context, view, query, asOf, ageMinutes);
      }
    }
  }
  answer ??= await readLive(context, view, query, 'live');

  const seconds = (performance.now() - started) / 1000;
  const { source, age_minutes } = answer.cache;
  context.metrics.observe(view.name, source, seconds);
  context.logger.debug(
    { view: view.name, source, age_minutes, duration_ms: Math.round(seconds * 100_000) / 100, rows: answer.rows.length },
    'read',
  );
  const declared = [...viewColumns(view).values()].filter((column) => column.declared !== null);
  return { rows: answer.rows.map((row) => toDeclaredTypes<Row>(row, declared)), cache: answer.cache };
}

async function readMaterialized(
  context: ReadContext,
  view: CatalogView,
  query: RowQuery,
  asOf: Date,
  ageMinutes: number,
): Promise<{ rows: Record<string, unknown>[]; cache: CacheInfo } | undefined> {
  const statement = materializedStatement(view, query);
  try {
    const rows = await context.sql.unsafe<Record<string, unknown>[]>(statement.text, statement.params);
    return { rows, cache: { source: 'materialized', as_of: asOf.toISOString(), age_minutes: roundMinutes(ageMinutes) } };
  } catch (error) {
    // The view was recreated WITH NO DATA (a migration) after the freshness lookup: the
    // cached answer is wrong, and the live query can still answer.
    if ((error as { code?: string }).code === NOT_POPULATED) {
      context.freshness.clear(view.name);
      return undefined;
    }
    throw error;
  }
}

async function readLive(
  context: ReadContext,
  view: CatalogView,
  query: RowQuery,
  source: 'live' | 'live_pending',
): Promise<{ rows: Record<string, unknown>[]; cache: CacheInfo }> {
  const queriedAt = context.now();
  const statement = liveStatement(context.catalog, view, query);
  const rows = await context.sql.unsafe<Record<string, unknown>[]>(statement.text, statement.params);
  return { rows, cache: { source, as_of: queriedAt.toISOString(), age_minutes: 0 } };
}

/** The scope key of a keyed view's row, from its (validated) unique-key conditions; null for other views. */
function scopeKeyOf(view: CatalogView, conditions: readonly { column: string; value: unknown }[]): KeyTuple | null {
  if (!view.keyed) return null;
  const tuple: KeyTuple = [];
  for (const column of view.keyed.scopeKey) {
    const condition = conditions.find((candidate) => candidate.column === column.name);
    const canonical = canonicalKeyValue(column.sqlType, condition?.value);
    if (!condition || 'expected' in canonical) return null;
    tuple.push(canonical.value);
  }
  return tuple;
}

function roundMinutes(minutes: number): number {
  return Math.round(minutes * 100) / 100;
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
