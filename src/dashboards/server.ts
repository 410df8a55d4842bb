import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { Queue } from 'bullmq';
import { Hono } from 'hono';
import { Registry } from 'prom-client';
import type { Catalog } from '../catalog/catalog.js';
import type { Queryable } from '../core/db.js';
import { ConfigError, oneLine } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { createTokenCheck } from './auth.js';
import { createBoardApp } from './bull-board.js';
import { HttpError } from './http-error.js';
import { registerDashboardMetrics } from './metrics.js';
import { registerProcessMetrics } from './process-metrics.js';
import { boardSessionRoutes } from './routes/board-session.js';
import { healthRoutes } from './routes/health.js';
import { pageRoutes } from './routes/page.js';
import { refreshRoutes } from './routes/refresh.js';
import { viewRoutes } from './routes/views.js';
import { withTimeout } from '../core/with-timeout.js';

/** Options for {@link createDashboard}. */
export interface DashboardOptions {
  /** Pool the status, log and stats queries run on (not closed by the dashboard). */
  sql: Queryable;
  catalog: Catalog;
  /** The refresh queue (`createRefreshQueue`): Bull Board, job counts, API refreshes. Not closed by the dashboard. */
  queue: Queue;
  /**
   * Bearer token for write endpoints and Bull Board actions (at least 16 characters).
   * @defaultValue undefined: writes answer 403 and Bull Board is read-only
   */
  token?: string | undefined;
  /**
   * Registry `/metrics` serves; the dashboard adds its fleet metrics to it. Pass one to add
   * your own metrics (e.g. the reader's `mvfleet_reads_total`).
   * @defaultValue a new Registry with prom-client's default Node process metrics (less three gauges named `…_total`, see process-metrics.ts)
   */
  registry?: Registry;
  /** @defaultValue a silent logger */
  logger?: Logger;
  /**
   * Next scheduled run per view, shown on the page and in `/api/views`.
   * @defaultValue no schedule information (every `next_run_at` is null)
   */
  nextRuns?: () => Promise<ReadonlyMap<string, Date>>;
  /**
   * Adds routes to the app before the not-found handler, e.g.
   * `(app) => app.route('/api/demo', createDemoApi({ reader }))`.
   * @defaultValue none
   */
  extraRoutes?: (app: Hono) => void;
  /**
   * Points in each view's refresh-duration trend on the freshness page.
   * @defaultValue 20
   */
  trendPoints?: number;
  /**
   * Bound on each probe and scrape call to PostgreSQL or the queue backend, in milliseconds
   * (Redis commands otherwise wait for a reconnect indefinitely).
   * @defaultValue 3_000
   */
  dependencyTimeoutMs?: number;
}

export const dashboardDefaults = {
  logger: undefined,
  trendPoints: 20,
  dependencyTimeoutMs: 3_000,
} satisfies Partial<DashboardOptions>;

/** A running HTTP listener. */
export interface DashboardListener {
  /** `http://host:port`. */
  url: string;
  /** Stops accepting connections and closes open ones. Idempotent. */
  close(): Promise<void>;
}

export interface Dashboard extends AsyncDisposable {
  /** The Hono app (usable with `app.request()` in tests or mounted elsewhere). */
  readonly app: Hono;
  readonly registry: Registry;
  /**
   * Serves the app over HTTP.
   * @param host - interface to bind; defaults to `127.0.0.1` so nothing is exposed by accident
   */
  listen(port: number, host?: string): Promise<DashboardListener>;
  /** Closes every listener and removes the dashboard's metrics from the registry. Idempotent. */
  close(): Promise<void>;
}

function validate(options: DashboardOptions): void {
  const problems: string[] = [];
  if (options.token !== undefined && options.token.length < 16) {
    problems.push(`token must be at least 16 characters (got ${options.token.length})`);
  }
  if (options.trendPoints !== undefined && !(Number.isInteger(options.trendPoints) && options.trendPoints >= 2 && options.trendPoints <= 200)) {
    problems.push(`trendPoints must be an integer between 2 and 200 (got ${options.trendPoints})`);
  }
  if (options.dependencyTimeoutMs !== undefined && !(options.dependencyTimeoutMs > 0)) {
    problems.push(`dependencyTimeoutMs must be > 0 (got ${options.dependencyTimeoutMs})`);
  }
  if (problems.length > 0) throw new ConfigError(`createDashboard: ${problems.join('; ')}`);
}

/** Creates the dashboard: freshness page, JSON API, Bull Board, `/metrics`, health probes. */
export function createDashboard(options: DashboardOptions): Dashboard {
  validate(options);
  const { sql, catalog, queue } = options;
  const trendPoints = options.trendPoints ?? dashboardDefaults.trendPoints;
  const timeoutMs = options.dependencyTimeoutMs ?? dashboardDefaults.dependencyTimeoutMs;
  const logger = (options.logger ?? silentLogger()).child({ component: 'dashboard' });
  const readNextRuns = options.nextRuns ?? (async () => new Map<string, Date>());
  // Next runs come from the queue backend: when it is down the page and /api/views still
  // answer from PostgreSQL, with next_run_at null.
  const nextRuns = () =>
    withTimeout(readNextRuns(), timeoutMs, 'next scheduled runs').catch((error: unknown): ReadonlyMap<string, Date> => {
      logger.warn({ err: error }, 'cannot read next scheduled runs');
      return new Map();
    });
  const tokenCheck = createTokenCheck(options.token);

  const ownRegistry = options.registry === undefined;
  const registry = options.registry ?? new Registry();
  if (ownRegistry) registerProcessMetrics(registry);
  const unregisterMetrics = registerDashboardMetrics({ registry, sql, catalog, queue, logger, timeoutMs });

  const app = new Hono();
  app.route('/', healthRoutes({ sql, queue, timeoutMs }));
  app.route('/', pageRoutes({ sql, catalog, queue, nextRuns, writesEnabled: tokenCheck.configured, trendPoints, timeoutMs }));
  app.route('/api', viewRoutes({ sql, catalog, nextRuns }));
  app.route('/api', refreshRoutes({ sql, catalog, queue, tokenCheck, logger }));
  app.route('/api', boardSessionRoutes(tokenCheck));
  app.route('/queues', createBoardApp({ queue, tokenCheck, basePath: '/queues' }));
  app.get('/metrics', async (c) => c.body(await registry.metrics(), 200, { 'Content-Type': registry.contentType }));
  options.extraRoutes?.(app);

  app.notFound((c) => c.json({ error: `no route ${c.req.method} ${c.req.path}` }, 404));
  app.onError((error, c) => {
    if (error instanceof HttpError) return c.json({ error: error.message }, error.status);
    logger.error({ err: error, method: c.req.method, path: c.req.path }, 'dashboard request failed');
    return c.json({ error: `internal error: ${oneLine(error)}` }, 500);
  });

  const listeners = new Set<DashboardListener>();
  let closed: Promise<void> | undefined;

  async function listen(port: number, host = '127.0.0.1'): Promise<DashboardListener> {
    if (closed) throw new Error('dashboard is closed');
    if (!(Number.isInteger(port) && port >= 0 && port <= 65_535)) throw new ConfigError(`listen: port must be an integer 0-65535 (got ${port})`);
    const server = await new Promise<ServerType>((resolve, reject) => {
      const created = serve({ fetch: app.fetch, port, hostname: host }, () => resolve(created));
      created.once('error', reject);
    });
    const address = server.address() as AddressInfo;
    const hostPart = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    let stopped: Promise<void> | undefined;
    const listener: DashboardListener = {
      url: `http://${hostPart}:${address.port}`,
      close: () =>
        (stopped ??= new Promise<void>((resolve) => {
          listeners.delete(listener);
          server.close(() => resolve());
          // Keep-alive connections (browsers, Bull Board polling) would hold close() open.
          if ('closeAllConnections' in server) server.closeAllConnections();
        })),
    };
    listeners.add(listener);
    logger.info({ url: listener.url }, 'dashboard listening');
    return listener;
  }

  const close = () =>
    (closed ??= (async () => {
      await Promise.allSettled([...listeners].map((listener) => listener.close()));
      unregisterMetrics();
      if (ownRegistry) registry.clear();
    })());

  return { app, registry, listen, close, [Symbol.asyncDispose]: close };
}
