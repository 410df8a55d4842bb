import type { Hono } from 'hono';
import { Registry } from 'prom-client';
import { registerProcessMetrics } from '../dashboards/process-metrics.js';
import type { Catalog } from '../catalog/catalog.js';
import type { DashboardRouteContext } from '../config/define-config.js';
import type { Sql } from '../core/db.js';
import { MvfleetError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { checkRefreshPrivileges } from '../check/refresh-privileges.js';
import { engineSchemaVersion } from '../store/engine-migrations.js';
import { createDashboard } from '../dashboards/index.js';
import type { QueueBackend } from '../queue/queue-backend.js';
import { createRefreshQueue } from '../queue/refresh-queue.js';
import { createReader } from '../reads/index.js';
import { createWorker } from '../workers/refresh-worker.js';
import { createScheduler } from '../workers/scheduler.js';

/**
 * The long-running roles of a fleet, each started on the app's services. `mvfleet worker`,
 * `scheduler` and `dashboard` start one each; `mvfleet up` (or an app, in-process) starts
 * all three with {@link startFleet}.
 */
export interface FleetServices {
  /** postgres.js client; it may be the one the app uses with Drizzle. */
  sql: Sql;
  backend: QueueBackend;
  catalog: Catalog;
  /** @defaultValue a silent logger */
  logger?: Logger;
}

export interface Running {
  /** Stops the role gracefully; idempotent. */
  close(): Promise<void>;
}

/** Options of {@link startFleet}; each role's part is also what its own `start…` takes. */
export interface StartFleetOptions {
  /**
   * Refreshes this process runs at once.
   * @defaultValue 2
   */
  concurrency?: number;
  /**
   * Dashboard port; 0 picks a free one.
   * @defaultValue 3000
   */
  port?: number;
  /**
   * Dashboard interface.
   * @defaultValue '127.0.0.1'
   */
  host?: string;
  /**
   * Bearer token for the dashboard's write endpoints; unset refuses every write.
   * @defaultValue undefined
   */
  token?: string | undefined;
  /**
   * IANA zone of cron schedules that name none.
   * @defaultValue 'UTC'
   */
  timeZone?: string;
  /** The app's own dashboard routes (the config's `dashboard.routes`). */
  routes?: ((app: Hono, context: DashboardRouteContext) => void) | undefined;
  /**
   * Host names the dashboard answers to (`createDashboard`'s `allowedHosts`).
   * @defaultValue loopback names and `host` unless it is 0.0.0.0 or ::
   */
  allowedHosts?: readonly string[] | undefined;
  /**
   * Whether dashboard reads need the token too.
   * @defaultValue true when `host` is not a loopback address
   */
  requireTokenForReads?: boolean | undefined;
}

const fleetDefaults = { concurrency: 2, port: 3000, host: '127.0.0.1', timeZone: 'UTC' } satisfies StartFleetOptions;

export async function startWorker(services: FleetServices, options: Pick<StartFleetOptions, 'concurrency'> = {}): Promise<Running & { id: string }> {
  const logger = services.logger ?? silentLogger();
  const concurrency = options.concurrency ?? fleetDefaults.concurrency;
  await requireMigratedStore(services);
  // Refuses a queue that cannot work (unreachable, or a plain client on a cluster node) before
  // the worker starts fetching from it.
  await services.backend.ping();
  const worker = createWorker({ backend: services.backend, sql: services.sql, catalog: services.catalog, concurrency, logger });
  try {
    await worker.ready();
  } catch (error) {
    await worker.close();
    throw error;
  }
  logger.info({ workerId: worker.id, concurrency, queue: services.backend.target }, 'worker started');
  return { id: worker.id, close: () => worker.close() };
}

export async function startScheduler(services: Omit<FleetServices, 'sql'>, options: Pick<StartFleetOptions, 'timeZone'> = {}): Promise<Running> {
  const logger = services.logger ?? silentLogger();
  await services.backend.ping();
  const queue = createRefreshQueue(services.backend);
  const scheduler = createScheduler({
    queue,
    backend: services.backend,
    catalog: services.catalog,
    timeZone: options.timeZone ?? fleetDefaults.timeZone,
    logger,
  });
  const result = await scheduler.sync();
  const next = await scheduler.nextRuns();
  logger.info({ ...result, next: Object.fromEntries(next) }, 'scheduler synced');
  const running = scheduler.run();
  return {
    async close() {
      await scheduler.close();
      await running;
      await queue.close();
    },
  };
}

export async function startDashboard(
  services: FleetServices,
  options: Pick<StartFleetOptions, 'port' | 'host' | 'token' | 'timeZone' | 'routes' | 'allowedHosts' | 'requireTokenForReads'> = {},
): Promise<Running & { url: string }> {
  const { sql, catalog } = services;
  const logger = services.logger ?? silentLogger();
  const queue = createRefreshQueue(services.backend);
  // One registry for the dashboard's metrics and the app routes' read metrics.
  const registry = new Registry();
  registerProcessMetrics(registry);
  const reader = createReader({ sql, catalog, registry, logger });
  // Only read from: nextRuns() lists the job schedulers; this role never syncs or runs them.
  const schedules = createScheduler({ queue, backend: services.backend, catalog, timeZone: options.timeZone ?? fleetDefaults.timeZone });
  const routes = options.routes;
  const dashboard = createDashboard({
    sql,
    catalog,
    queue,
    queueTarget: services.backend.target,
    token: options.token,
    timeZone: options.timeZone ?? fleetDefaults.timeZone,
    allowedHosts: options.allowedHosts,
    requireTokenForReads: options.requireTokenForReads,
    logger,
    registry,
    nextRuns: () => schedules.nextRuns(),
    ...(routes ? { extraRoutes: (app) => routes(app, { reader, logger }) } : {}),
  });
  const listener = await dashboard.listen(options.port ?? fleetDefaults.port, options.host ?? fleetDefaults.host);
  logger.info(
    { url: listener.url, writes: options.token ? 'enabled (bearer token)' : 'disabled: set MVFLEET_DASHBOARD_TOKEN' },
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
 * Worker, scheduler and dashboard in one process (`mvfleet up`, the demo, small installs).
 * Closing stops the dashboard, then the scheduler, then the worker (which finishes its
 * refreshes); every step runs even if an earlier one fails.
 */
export async function startFleet(services: FleetServices, options: StartFleetOptions = {}): Promise<Running & { url: string }> {
  const started: Running[] = [];
  try {
    started.push(await startWorker(services, options));
    started.push(await startScheduler(services, options));
    const dashboard = await startDashboard(services, options);
    started.push(dashboard);
    let closed: Promise<void> | undefined;
    return { url: dashboard.url, close: () => (closed ??= closeAll(started)) };
  } catch (error) {
    await closeAll(started);
    throw error;
  }
}

/**
 * A worker refuses to start on a database whose mvfleet schema is missing or older than this
 * version's (a deploy that skipped `mvfleet migrate`), or whose tables its role cannot write:
 * every refresh would fail, the second kind without a trace.
 */
async function requireMigratedStore({ sql, catalog }: FleetServices): Promise<void> {
  const { current, latest } = await engineSchemaVersion(sql, catalog.store);
  if (current < latest) {
    throw new MvfleetError(
      current === 0
        ? `mvfleet's schema "${catalog.store.schema}" does not exist in this database: run mvfleet migrate`
        : `mvfleet's schema "${catalog.store.schema}" is at version ${current}, this mvfleet needs ${latest}: run mvfleet migrate`,
    );
  }
  // A role that cannot write the refresh log would fail every attempt without a trace.
  const denied = (await checkRefreshPrivileges(sql, catalog)).filter((finding) => finding.view === undefined);
  if (denied.length > 0) throw new MvfleetError(denied.map((finding) => finding.message).join('; '));
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
