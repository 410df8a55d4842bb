import { createHash } from 'node:crypto';
import { is, type SQL } from 'drizzle-orm';
import {
  getMaterializedViewConfig,
  getTableConfig,
  PgMaterializedView,
  PgTable,
  type PgColumn,
} from 'drizzle-orm/pg-core';
import type { z } from 'zod';
import { ConfigError, MvfleetError } from '../core/errors.js';
import { engineStore, type EngineStore } from '../store/engine-schema.js';
import { resolveKeys, type CatalogKeys, type KeyedDefinition } from './catalog-keys.js';
import { dependencyOrder } from './catalog-order.js';
import { render, wholeView } from './key-scope.js';
import { resolveCapture, type CaptureDefinition, type CatalogCaptureSource } from './capture-definition.js';

export type { CatalogKeys, KeyedDefinition, KeyField } from './catalog-keys.js';
export { keyedDefaults } from './catalog-keys.js';

/**
 * The view catalog: what the engine knows about each materialized view. It is data, read
 * by migrations, workers, schedulers, producers, readers and dashboards alike; no code
 * path is specific to one view.
 */

/** A refresh schedule. Ticks enqueue a refresh after a random delay in `[0, jitterMs]`. */
export type Schedule =
  | { kind: 'every'; everyMs: number; jitterMs: number }
  | {
      kind: 'cron';
      /** Five-field cron pattern, e.g. `0 2 * * *` for 02:00 daily. */
      pattern: string;
      /** IANA zone; `null` means the fleet's configured zone (`MVFLEET_TZ`). */
      timeZone: string | null;
      jitterMs: number;
    };

/** An index the catalog guarantees on a view (drizzle-kit cannot declare indexes on MVs). */
export interface IndexSpec {
  name: string;
  columns: readonly string[];
  unique: boolean;
}

/** Alert thresholds for dashboards and `status`. */
export interface AlertPolicy {
  /** A refresh slower than this is flagged. */
  slowRefreshMs: number;
  /** This many failed attempts in a row raise an alert. */
  consecutiveFailures: number;
  /** Success rate (0..1) over the stats window below which an alert is raised. */
  minSuccessRate: number;
}

/** What an application event carries; validated by producers before anything is enqueued. */
export interface EventDefinition {
  description: string;
  payload: z.ZodType<Record<string, unknown>>;
}

/** One view as written in a catalog file; optional fields get {@link viewDefaults}. */
export interface ViewDefinition {
  /**
   * Its storage and name: a Drizzle materialized view, or, for a keyed view maintained by
   * targeted refreshes, a Drizzle table with the same columns (readers cannot tell them
   * apart). Switching between the two is a drizzle-kit migration.
   */
  view: PgMaterializedView | PgTable;
  /** Makes the view keyed: events record the keys they touch and refreshes recompute only those. */
  keyed?: KeyedDefinition;
  description: string;
  /** Columns that identify a row; backs the unique index CONCURRENTLY needs. */
  uniqueKey: readonly string[];
  /** Further indexes for read paths. */
  indexes?: readonly { name: string; columns: readonly string[] }[];
  /** Tables the view reads. */
  sources: readonly string[];
  /** Catalog views this one is built on; it is refreshed after them (cascade). */
  upstream?: readonly string[];
  /** `null`: no schedule (refreshed by events or cascade only). */
  schedule: Schedule | null;
  /** Events after which the view must be refreshed. */
  events?: readonly string[];
  /**
   * Change capture by triggers: per source table, how a written row maps to the view (see
   * {@link CaptureSource}). `mvfleet migrate` installs the triggers. Events stay supported.
   * @defaultValue none: the view learns of changes from events and schedules only
   */
  capture?: CaptureDefinition;
  /**
   * Age after which the view counts as stale and reads fall back to the live query.
   * @defaultValue 15
   */
  freshForMinutes?: number;
  /**
   * Delay before each retry of a failed refresh; its length is the number of retries.
   * @defaultValue [60_000, 300_000, 900_000]
   */
  retryBackoffMs?: readonly number[];
  /**
   * `lock_timeout` of the refresh.
   * @defaultValue 5_000
   */
  lockTimeoutMs?: number;
  /**
   * `statement_timeout` of the refresh.
   * @defaultValue 60_000
   */
  statementTimeoutMs?: number;
  /**
   * Requests for the view within this window share one refresh.
   * @defaultValue 1_000
   */
  coalesceWindowMs?: number;
  /** @defaultValue {@link alertDefaults} */
  alerts?: Partial<AlertPolicy>;
}

export const alertDefaults = {
  slowRefreshMs: 300_000,
  consecutiveFailures: 2,
  minSuccessRate: 0.95,
} satisfies AlertPolicy;

export const viewDefaults = {
  freshForMinutes: 15,
  retryBackoffMs: [60_000, 300_000, 900_000],
  lockTimeoutMs: 5_000,
  statementTimeoutMs: 60_000,
  coalesceWindowMs: 1_000,
} satisfies Partial<ViewDefinition>;

/** How a view's rows are stored: a PostgreSQL MV, or a table mvfleet maintains. */
export type ViewStorage = 'materialized' | 'table';

/** A catalog view with every default applied and its SQL rendered. */
export interface CatalogView {
  name: string;
  view: PgMaterializedView | PgTable;
  storage: ViewStorage;
  description: string;
  /** Column names of the view, in order. */
  columns: readonly string[];
  /** The Drizzle columns, in order. */
  fields: readonly PgColumn[];
  /** The defining SELECT over the whole view, as rendered by Drizzle. */
  definitionSql: string;
  /**
   * md5 of the definition and the columns with their types: a table-stored view built from
   * another fingerprint holds rows of an older definition (see `mv_table_state`).
   */
  fingerprint: string;
  /** Null for a view that is always refreshed whole. */
  keyed: CatalogKeys | null;
  uniqueKey: readonly string[];
  /** The unique key index first, then the declared ones. */
  indexes: readonly IndexSpec[];
  sources: readonly string[];
  upstream: readonly string[];
  schedule: Schedule | null;
  events: readonly string[];
  /** Source tables whose writes triggers capture; empty when the view does not capture. */
  capture: readonly CatalogCaptureSource[];
  freshForMinutes: number;
  retryBackoffMs: readonly number[];
  lockTimeoutMs: number;
  statementTimeoutMs: number;
  coalesceWindowMs: number;
  alerts: AlertPolicy;
}

/** Thrown for a view or event name the catalog does not know. */
export class UnknownNameError extends MvfleetError {
  override readonly exitCode = 2;
}

export interface Catalog {
  /** Where mvfleet keeps its own tables (the config's `schema`). */
  readonly store: EngineStore;
  /** Every view, upstream views before the views built on them. */
  readonly views: readonly CatalogView[];
  readonly events: Readonly<Record<string, EventDefinition>>;
  has(name: string): boolean;
  /** @throws UnknownNameError listing the known views. */
  get(name: string): CatalogView;
  /** @throws UnknownNameError listing the known events. */
  event(name: string): EventDefinition;
  /** Views an event maps to (without their cascade), in dependency order. */
  viewsForEvent(event: string): CatalogView[];
  /** Views built on `name`, transitively, in the order they must be refreshed. */
  downstreamOf(name: string): CatalogView[];
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** Name, columns and defining query of the Drizzle object behind a view. */
function storageOf(definition: ViewDefinition): { name: string; storage: ViewStorage; fields: PgColumn[]; query: SQL | undefined } {
  if (is(definition.view, PgMaterializedView)) {
    const config = getMaterializedViewConfig(definition.view);
    return { name: config.name, storage: 'materialized', fields: Object.values(config.selectedFields) as PgColumn[], query: config.query };
  }
  if (is(definition.view, PgTable)) {
    const config = getTableConfig(definition.view);
    return { name: config.name, storage: 'table', fields: config.columns, query: definition.keyed?.query(wholeView) };
  }
  throw new MvfleetError('catalog: a view must be a Drizzle pgMaterializedView or pgTable');
}

/** The name of the view a catalog entry defines. */
export const viewNameOf = (definition: ViewDefinition): string => storageOf(definition).name;

function resolveView(definition: ViewDefinition): CatalogView {
  const { name, storage, fields, query } = storageOf(definition);
  const problems: string[] = [];
  if (!IDENTIFIER.test(name)) problems.push(`name must match ${IDENTIFIER}`);
  if (storage === 'materialized' && !query) problems.push('must be defined with .as(sql`...`)');
  if (storage === 'table' && !definition.keyed) problems.push('a table-stored view must be keyed (keyed.query defines it)');
  const columns = fields.map((field) => field.name);
  const unknownColumns = (list: readonly string[]) => list.filter((column) => !columns.includes(column));

  if (definition.uniqueKey.length === 0) problems.push('uniqueKey must name at least one column');
  for (const column of unknownColumns(definition.uniqueKey)) problems.push(`uniqueKey column ${column} is not a view column`);
  const declared = definition.indexes ?? [];
  for (const index of declared) {
    if (!IDENTIFIER.test(index.name)) problems.push(`index name ${index.name} must match ${IDENTIFIER}`);
    for (const column of unknownColumns(index.columns)) problems.push(`index ${index.name}: ${column} is not a view column`);
  }
  const merged = { ...viewDefaults, ...stripUndefined(definition) };
  if (merged.freshForMinutes <= 0) problems.push(`freshForMinutes must be > 0 (got ${merged.freshForMinutes})`);
  if (merged.retryBackoffMs.some((ms) => !(ms >= 0))) problems.push('retryBackoffMs must hold delays >= 0');
  if (merged.lockTimeoutMs <= 0) problems.push(`lockTimeoutMs must be > 0 (got ${merged.lockTimeoutMs})`);
  if (merged.statementTimeoutMs <= 0) problems.push(`statementTimeoutMs must be > 0 (got ${merged.statementTimeoutMs})`);
  if (merged.coalesceWindowMs < 0) problems.push(`coalesceWindowMs must be >= 0 (got ${merged.coalesceWindowMs})`);
  const schedule = definition.schedule;
  if (schedule?.kind === 'every' && !(schedule.everyMs > 0)) problems.push('schedule.everyMs must be > 0');
  if (schedule && !(schedule.jitterMs >= 0)) problems.push('schedule.jitterMs must be >= 0');
  if (schedule?.kind === 'cron' && schedule.pattern.trim().split(/\s+/).length !== 5) {
    problems.push(`schedule.pattern must have five fields (got "${schedule.pattern}")`);
  }
  const keyed = resolveKeys(name, definition, fields, problems);
  const capture = resolveCapture(definition.capture, { sources: definition.sources, scopeKey: keyed?.scopeKey ?? null }, problems);
  const definitionSql = query ? render(query) : '';
  if (storage === 'materialized' && definition.keyed && definitionSql !== render(definition.keyed.query(wholeView))) {
    problems.push('a keyed materialized view must be defined with .as(keyed.query(wholeView))');
  }
  if (problems.length > 0) throw new MvfleetError(`catalog view ${name}: ${problems.join('; ')}`);

  const keyIndex: IndexSpec = { name: `${name.slice(0, 58)}_key`, columns: definition.uniqueKey, unique: true };
  return {
    name,
    view: definition.view,
    storage,
    description: definition.description,
    columns,
    fields,
    definitionSql,
    fingerprint: createHash('md5')
      .update(JSON.stringify([definitionSql, fields.map((field) => [field.name, field.getSQLType()])]))
      .digest('hex'),
    keyed,
    uniqueKey: definition.uniqueKey,
    indexes: [keyIndex, ...declared.map((index) => ({ ...index, unique: false }))],
    sources: definition.sources,
    upstream: definition.upstream ?? [],
    schedule,
    events: definition.events ?? [],
    capture,
    freshForMinutes: merged.freshForMinutes,
    retryBackoffMs: merged.retryBackoffMs,
    lockTimeoutMs: merged.lockTimeoutMs,
    statementTimeoutMs: merged.statementTimeoutMs,
    coalesceWindowMs: merged.coalesceWindowMs,
    alerts: { ...alertDefaults, ...stripUndefined(definition.alerts ?? {}) },
  };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** What {@link createCatalog} takes: the `views`, `events` and `schema` of a config. */
export interface CatalogOptions {
  views: readonly ViewDefinition[];
  /**
   * Application events, by name, with the payload each carries.
   * @defaultValue {} (views refreshed by schedules, cascades and manual requests only)
   */
  events?: Readonly<Record<string, EventDefinition>>;
  /**
   * Schema of mvfleet's own tables (refresh log, dirty keys, table state, migrations journal).
   * @defaultValue 'mvfleet'
   */
  schema?: string;
}

/**
 * Builds and validates a catalog. Every problem of every view is reported at once in one
 * {@link ConfigError}.
 */
export function createCatalog(options: CatalogOptions): Catalog {
  const events = options.events ?? {};
  const problems: string[] = [];
  let store: EngineStore | undefined;
  try {
    store = engineStore(options.schema);
  } catch (error) {
    problems.push((error as Error).message);
  }
  const resolved: CatalogView[] = [];
  for (const definition of options.views) {
    try {
      resolved.push(resolveView(definition));
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  const seen = new Set<string>();
  for (const view of resolved) {
    if (seen.has(view.name)) problems.push(`catalog: view ${view.name} is defined twice`);
    seen.add(view.name);
    for (const event of view.events) {
      if (!Object.hasOwn(events, event)) problems.push(`catalog view ${view.name}: unknown event ${event}`);
    }
  }
  let ordered: CatalogView[] = [];
  try {
    ordered = dependencyOrder(resolved);
  } catch (error) {
    problems.push((error as Error).message);
  }
  if (problems.length > 0 || !store) throw new ConfigError(`invalid catalog:\n  - ${problems.join('\n  - ')}`);
  const views = Object.freeze(ordered);
  const byName = new Map(views.map((view) => [view.name, view]));
  const knownViews = () => views.map((view) => view.name).join(', ');

  const get = (name: string): CatalogView => {
    const view = byName.get(name);
    if (!view) throw new UnknownNameError(`unknown view "${name}" (known: ${knownViews()})`);
    return view;
  };

  return {
    store,
    views,
    events,
    has: (name) => byName.has(name),
    get,
    event(name) {
      const definition = Object.hasOwn(events, name) ? events[name] : undefined;
      if (!definition) {
        throw new UnknownNameError(`unknown event "${name}" (known: ${Object.keys(events).join(', ') || 'none'})`);
      }
      return definition;
    },
    viewsForEvent: (event) => views.filter((view) => view.events.includes(event)),
    downstreamOf(name) {
      get(name);
      const affected = new Set<string>([name]);
      // `views` is in dependency order, so one pass sees every upstream before its dependants.
      for (const view of views) {
        if (view.upstream.some((upstream) => affected.has(upstream))) affected.add(view.name);
      }
      affected.delete(name);
      return views.filter((view) => affected.has(view.name));
    },
  };
}
