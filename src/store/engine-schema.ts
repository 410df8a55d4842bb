import { MvfleetError } from '../core/errors.js';

/** Schema that holds mvfleet's own tables unless the config names another. */
export const DEFAULT_ENGINE_SCHEMA = 'mvfleet';

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Where mvfleet keeps its bookkeeping: the schema and its tables' qualified names, ready for
 * postgres.js identifiers (`${sql(store.refreshLog)}` renders `"mvfleet"."mv_refresh_log"`).
 * The schema is the engine's alone: the app's migrations never create or change it.
 */
export interface EngineStore {
  schema: string;
  /** One row per refresh attempt. */
  refreshLog: string;
  /** Running totals of finished attempts, kept by triggers on the refresh log (metrics read these). */
  refreshTotals: string;
  /** Keys of keyed views waiting for a targeted refresh. */
  dirtyKeys: string;
  /** Which table-stored views hold a complete build, of which definition. */
  tableState: string;
  /** Whole-view refresh requests no refresh has covered yet. */
  pendingRequests: string;
  /** The journal of the engine's own migrations. */
  migrations: string;
  /** Function that records a whole-view request unless a waiting one already covers it. */
  requestViewRefresh: string;
}

/** @throws MvfleetError when `schema` is not a plain lower-case identifier. */
export function engineStore(schema: string = DEFAULT_ENGINE_SCHEMA): EngineStore {
  if (!SCHEMA_NAME.test(schema)) {
    throw new MvfleetError(`schema must be a lower-case SQL identifier matching ${SCHEMA_NAME} (got "${schema}")`);
  }
  return {
    schema,
    refreshLog: `${schema}.mv_refresh_log`,
    refreshTotals: `${schema}.mv_refresh_totals`,
    dirtyKeys: `${schema}.mv_dirty_keys`,
    tableState: `${schema}.mv_table_state`,
    pendingRequests: `${schema}.mv_pending_requests`,
    migrations: `${schema}.schema_migrations`,
    requestViewRefresh: `${schema}.request_view_refresh`,
  };
}

/** A qualified name quoted for SQL text built outside postgres.js templates. */
export function quoteQualified(name: string): string {
  return name
    .split('.')
    .map((part) => `"${part.replaceAll('"', '""')}"`)
    .join('.');
}
