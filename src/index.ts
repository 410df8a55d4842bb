/**
 * mvfleet's public API: everything an app needs to declare its views, run every role
 * in-process, and handle failures. Every factory takes one options object; long-lived
 * objects have `close()` and `[Symbol.asyncDispose]`.
 */

// Configuration and catalog
export { defineConfig, type MvfleetConfig, type DashboardRouteContext } from './config/define-config.js';
export { loadConfig, validateConfig, CONFIG_FILE_NAMES, ConfigNotFoundError, type LoadedConfig } from './config/load-config.js';
export {
  createCatalog,
  viewNameOf,
  viewDefaults,
  alertDefaults,
  keyedDefaults,
  UnknownNameError,
  type Catalog,
  type CatalogOptions,
  type CatalogView,
  type ViewDefinition,
  type KeyedDefinition,
  type KeyField,
  type Schedule,
  type EventDefinition,
  type AlertPolicy,
  type IndexSpec,
  type ViewStorage,
} from './catalog/catalog.js';
export { wholeView, type KeyScope } from './catalog/key-scope.js';
export type { CaptureDefinition, CaptureSource, CaptureKeyValue } from './catalog/capture-definition.js';

// mvfleet's own tables and migrations
export { engineTables, mvRefreshLog, mvDirtyKeys, mvTableState } from './store/tables.js';
export { DEFAULT_ENGINE_SCHEMA, type EngineStore } from './store/engine-schema.js';
export {
  REFRESH_STATUSES,
  REFRESH_MODES,
  REFRESH_REASONS,
  REFRESH_STRATEGIES,
  type RefreshStatus,
  type RefreshMode,
  type RefreshReason,
  type RefreshStrategy,
} from './store/refresh-log.js';
export { migrate, type MigrateOptions, type MigrateResult } from './migrate/migrate.js';
export { checkCatalog, type CheckCatalogOptions, type CheckFinding } from './check/check-config.js';

// Connections
export { createDb, type DbHandle, type DbOptions, type Sql, type Queryable } from './core/db.js';
export {
  createPostgresQueueBackend,
  createRedisQueueBackend,
  type QueueBackend,
  type PostgresQueueBackendOptions,
  type RedisQueueBackendOptions,
} from './queue/queue-backend.js';
export { createLogger, silentLogger, type Logger } from './core/logger.js';

// Roles
export {
  createProducer,
  type Producer,
  type ProducerOptions,
  type RefreshHandle,
  type EmitOptions,
  type AppTransaction,
} from './producers/producer.js';
export { RefreshWaitTimeoutError, type RefreshWaitResult } from './producers/wait-for-refresh.js';
export { createWorker, connectionsNeeded, type RefreshWorker, type RefreshWorkerOptions } from './workers/refresh-worker.js';
export { createScheduler, type Scheduler, type SchedulerOptions } from './workers/scheduler.js';
export {
  startFleet,
  startWorker,
  startScheduler,
  startDashboard,
  type FleetServices,
  type StartFleetOptions,
  type Running,
} from './fleet/start-fleet.js';
export {
  createRefreshExecutor,
  type RefreshExecutor,
  type RefreshExecutorOptions,
  type RefreshRequest,
  type RefreshOutcome,
} from './workers/refresh-executor.js';
export { populateViews, describeOutcome } from './workers/populate-views.js';
export {
  createReader,
  InvalidReadError,
  type Reader,
  type ReaderOptions,
  type ReadResult,
  type GetOptions,
  type ListOptions,
  type CacheInfo,
  type ViewRow,
  type RowKey,
  type RowFilter,
  type OrderBy,
  type KeyValue,
  type ReadSource,
} from './reads/index.js';
export {
  createDashboard,
  readViewStatuses,
  readRefreshLogs,
  readRefreshStats,
  type Dashboard,
  type DashboardOptions,
  type ViewStatus,
  type RefreshLogEntry,
  type RefreshStats,
} from './dashboards/index.js';
export { verifyView, NotPopulatedError, type VerifyResult } from './workers/verify-view.js';

// Errors
export { MvfleetError, ConfigError, UsageError, ConnectionError } from './core/errors.js';
export { RefreshFailedError, PermanentRefreshError } from './workers/refresh-errors.js';

// CLI extension (a config's `commands`)
export type { Command, CommandContext } from './config/define-config.js';
export { parseCommandArgs, parseIntegerOption } from './cli/args.js';
