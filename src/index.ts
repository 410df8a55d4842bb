/**
 * mvfleet's public API. Every factory takes one options object and returns an object
 * with `close()` and `[Symbol.asyncDispose]`.
 */
export { createCatalog, type Catalog, type CatalogView, type ViewDefinition, type Schedule, type EventDefinition } from './catalog/catalog.js';
export { createDb, type DbHandle, type DbOptions } from './core/db.js';
export {
  createPostgresQueueBackend,
  createRedisQueueBackend,
  type QueueBackend,
  type PostgresQueueBackendOptions,
  type RedisQueueBackendOptions,
} from './queue/queue-backend.js';
export { migrate, type MigrateOptions, type MigrateResult } from './migrate/migrate.js';
export { createFleet, type Fleet, type FleetOptions, type RefreshHandle } from './producers/producer.js';
export { createDemoFleet, type DemoFleet } from '../examples/demo/producer.js';
export { createWorker, type RefreshWorker, type RefreshWorkerOptions } from './workers/refresh-worker.js';
export { createScheduler, type Scheduler, type SchedulerOptions } from './workers/scheduler.js';
export {
  createRefreshExecutor,
  type RefreshExecutor,
  type RefreshExecutorOptions,
  type RefreshRequest,
  type RefreshOutcome,
} from './workers/refresh-executor.js';
export { createReader, createDemoApi, type Reader, type ReaderOptions, type ReadResult } from './reads/index.js';
export { createDashboard, type Dashboard, type DashboardOptions } from './dashboards/index.js';
export { demoCatalog } from '../examples/demo/schema/catalog.js';
