import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Catalog } from '../catalog/catalog.js';
import type { DbHandle } from '../core/db.js';
import type { Env } from '../config/env.js';
import type { Logger } from '../core/logger.js';
import type { QueueBackend } from '../queue/queue-backend.js';
import { createDashboard } from '../dashboards/index.js';
import { createRefreshQueue } from '../queue/refresh-queue.js';
import { createDemoApi, createReader } from '../reads/index.js';
import { createWorker } from '../workers/refresh-worker.js';
import { createScheduler } from '../workers/scheduler.js';

/**
 * The long-running pieces of a fleet, started from the environment's services. `worker`,
 * `scheduler` and `dashboard` each start one; `up` and `demo` start all three in one process.
 */
export interface FleetServices {
  env: Env;
  db: DbHandle;
  backend: QueueBackend;
  catalog: Catalog;
  logger: Logger;
}

export interface Running {
  /** Stops the piece gracefully; idempotent. */
  close(): Promise<void>;
}

export async function startWorker(
  services: Omit<FleetServices, 'env'>,
  options: { concurrency: number },
): Promise<Running & { id: string }> {
  const worker = createWorker({
    backend: services.backend,
    sql: services.db.sql,
    catalog: services.catalog,
    concurrency: options.concurrency,
    logger: services.logger,
  });
  try {
    await worker.ready();
  } catch (error) {
    await worker.close();
    throw error;
  }
  services.logger.info({ workerId: worker.id, concurrency: options.concurrency, queue: services.backend.target }, 'worker started');
  return { id: worker.id, close: () => worker.close() };
}

export async function startScheduler(services: Omit<FleetServices, 'db'>): Promise<Running> {
  const queue = createRefreshQueue(services.backend);
  const scheduler = createScheduler({
    queue,
    backend: services.backend,
    catalog: services.catalog,
    timeZone: services.env.MVFLEET_TZ,
    logger: services.logger,
  });
  const result = await scheduler.sync();
  const next = await scheduler.nextRuns();
  services.logger.info({ ...result, next: Object.fromEntries(next) }, 'scheduler synced');
  const running = scheduler.run();
  return {
    async close() {
      await scheduler.close();
      await running;
      await queue.close();
    },
  };
}

export async function startDashboard(services: FleetServices, options: { port: number; host: string }): Promise<Running & { url: string }> {
  const { env, db, catalog, logger } = services;
  const queue = createRefreshQueue(services.backend);
  // One registry for the dashboard's metrics and the demo API's read metrics.
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const reader = createReader({ sql: db.sql, catalog, registry, logger });
  // Only read from: nextRuns() lists the job schedulers; this piece never syncs or runs them.
  const schedules = createScheduler({ queue, backend: services.backend, catalog, timeZone: env.MVFLEET_TZ });
  const dashboard = createDashboard({
    sql: db.sql,
    catalog,
    queue,
    token: env.MVFLEET_DASHBOARD_TOKEN,
    logger,
    registry,
    nextRuns: () => schedules.nextRuns(),
    extraRoutes: (app) => app.route('/api/demo', createDemoApi({ reader, logger })),
  });
  const listener = await dashboard.listen(options.port, options.host);
  logger.info(
    { url: listener.url, writes: env.MVFLEET_DASHBOARD_TOKEN ? 'enabled (bearer token)' : 'disabled: set MVFLEET_DASHBOARD_TOKEN' },
    'dashboard started',
  );
  return {
    url: listener.url,
    async close() {
      await dashboard.close();
      await reader.close();
      await queue.close();
    },
  };
}

/**
 * Worker, scheduler and dashboard in one process (`mvfleet up`, `mvfleet demo`). Closing
 * stops the dashboard, then the scheduler, then the worker (which finishes its refreshes);
 * every step runs even if an earlier one fails.
 */
export async function startFleet(
  services: FleetServices,
  options: { concurrency: number; port: number; host: string },
): Promise<Running & { url: string }> {
  const started: Running[] = [];
  try {
    started.push(await startWorker(services, { concurrency: options.concurrency }));
    started.push(await startScheduler(services));
    const dashboard = await startDashboard(services, { port: options.port, host: options.host });
    started.push(dashboard);
    let closed: Promise<void> | undefined;
    return { url: dashboard.url, close: () => (closed ??= closeAll(started)) };
  } catch (error) {
    await closeAll(started);
    throw error;
  }
}

async function closeAll(pieces: Running[]): Promise<void> {
  const failures: unknown[] = [];
  for (const piece of [...pieces].reverse()) {
    try {
      await piece.close();
    } catch (error) {
      failures.push(error);
    }
  }
  if (failures.length > 0) throw new AggregateError(failures, 'some fleet services did not stop cleanly');
}
