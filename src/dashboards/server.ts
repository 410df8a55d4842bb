import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { Queue } from 'bullmq';
import { Hono } from 'hono';
import { Registry } from 'prom-client';
import type { Catalog } from '../catalog/catalog.js';
import type { Queryable } from '../core/db.js';
import { ConfigError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { accessGate } from './access.js';
import { createAllowedMethods, notFoundOrNotAllowed } from './allowed-methods.js';
import { createHostCheck, isLoopbackHost, isWildcardAddress, LOOPBACK_HOSTS, requireAllowedHost } from './allowed-hosts.js';
import { createTokenCheck } from './auth.js';
import { createAuthThrottle } from './auth-throttle.js';
import { createSessionStore } from './board-sessions.js';
import { createBoundedReads } from './bounded-reads.js';
import { createBoardApp } from './bull-board.js';
import { answerError } from './error-answer.js';
import { LOGIN_SCRIPT } from './login-page.js';
import { PAGE_SCRIPT } from './page-assets.js';
import { limitRequestBodies } from './request-body.js';
import { securityHeaders } from './security-headers.js';
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
   * Where the queue's jobs live, as `QueueBackend.target` says it (`Redis at host:port`): a
   * refresh request the queue does not take names it to the token's holders.
   * @defaultValue undefined: such answers name the queue only
   */
  queueTarget?: string | undefined;
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
   * Bound on each probe and scrape call to PostgreSQL or the queue backend, and on each step
   * of a refresh request (recording it, enqueueing its job), in milliseconds (Redis commands
   * otherwise wait for a reconnect indefinitely).
   * @defaultValue 3_000
   */
  dependencyTimeoutMs?: number;
  /**
   * IANA zone of cron schedules that name none, for next runs the page computes itself.
   * @defaultValue 'UTC'
   */
  timeZone?: string;
  /**
   * `statement_timeout` of the page's and the JSON API's queries, in milliseconds: a slow or
   * blocked query is cancelled and the request answers 503.
   * @defaultValue 5_000
   */
  queryTimeoutMs?: number;
  /**
   * Host names the dashboard answers to, matched against the `Host` header (port ignored);
   * `*.example.com` allows every subdomain, `*` any name. Other names answer 421, which
   * stops DNS rebinding. Health probes are exempt.
   * @defaultValue `localhost`, `127.0.0.1`, `::1`, plus each address `listen()` binds other than 0.0.0.0 and ::
   */
  allowedHosts?: readonly string[] | undefined;
  /**
   * Whether reading the page, the API, Bull Board and `/metrics` needs the token (header or
   * session) too. Health probes stay open.
   * @defaultValue false, turned on once `listen()` binds an address other than loopback
   */
  requireTokenForReads?: boolean | undefined;
  /**
   * Largest request body accepted, in bytes; larger ones answer 413 before any route runs.
   * @defaultValue 1_048_576 (1 MiB)
   */
  maxBodyBytes?: number;
  /**
   * Deepest nesting of JSON arrays and objects a request body may have; deeper ones answer 400.
   * @defaultValue 64
   */
  maxJsonDepth?: number;
  /**
   * Lifetime of a browser session (`POST /api/session`), in milliseconds.
   * @defaultValue 43_200_000 (12 h)
   */
  sessionTtlMs?: number;
  /**
   * Wrong tokens one client address may send within `wrongTokenWindowMs` before it is locked out.
   * @defaultValue 10
   */
  maxWrongTokens?: number;
  /**
   * Window wrong tokens are counted in, in milliseconds.
   * @defaultValue 600_000 (10 min)
   */
  wrongTokenWindowMs?: number;
  /**
   * How long a locked-out address gets 429 (with Retry-After) for any token it sends, in milliseconds.
   * @defaultValue 900_000 (15 min)
   */
  lockoutMs?: number;
}

export const dashboardDefaults = {
  logger: undefined,
  trendPoints: 20,
  dependencyTimeoutMs: 3_000,
  timeZone: 'UTC',
  queryTimeoutMs: 5_000,
  maxBodyBytes: 1_048_576,
  maxJsonDepth: 64,
  sessionTtlMs: 12 * 3_600_000,
  maxWrongTokens: 10,
  wrongTokenWindowMs: 600_000,
  lockoutMs: 900_000,
} satisfies Partial<DashboardOptions>;

/** Paths that skip the Host check and need no token: orchestrators probe them by IP, without credentials. */
const HEALTH_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz']);

/** Paths that serve HTML pages (the sign-in page needs no datastore and cannot fail). */
const PAGE_PATHS: ReadonlySet<string> = new Set(['/']);

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
   * @param host - interface to bind; defaults to `127.0.0.1` so nothing is exposed by accident.
   * Another address turns on `requireTokenForReads` unless the options set it, and is added
   * to the allowed host names unless `allowedHosts` is given or it is 0.0.0.0 or ::.
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
  const positive = ['queryTimeoutMs', 'maxBodyBytes', 'sessionTtlMs', 'wrongTokenWindowMs', 'lockoutMs'] as const;
  for (const name of positive) {
    const value = options[name];
    if (value !== undefined && !(Number.isFinite(value) && value > 0)) problems.push(`${name} must be > 0 (got ${value})`);
  }
  for (const name of ['maxJsonDepth', 'maxWrongTokens'] as const) {
    const value = options[name];
    if (value !== undefined && !(Number.isInteger(value) && value >= 1)) problems.push(`${name} must be an integer >= 1 (got ${value})`);
  }
  if (options.allowedHosts !== undefined && options.allowedHosts.some((host) => typeof host !== 'string' || host.trim() === '')) {
    problems.push('allowedHosts must be a list of non-empty host names');
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
  const sessions = createSessionStore({ ttlMs: options.sessionTtlMs ?? dashboardDefaults.sessionTtlMs });
  const tokenCheck = createTokenCheck(options.token, sessions);
  const throttle = createAuthThrottle({
    maxFailures: options.maxWrongTokens ?? dashboardDefaults.maxWrongTokens,
    windowMs: options.wrongTokenWindowMs ?? dashboardDefaults.wrongTokenWindowMs,
    lockoutMs: options.lockoutMs ?? dashboardDefaults.lockoutMs,
  });
  const hostCheck = createHostCheck(options.allowedHosts ?? LOOPBACK_HOSTS);
  let readsNeedToken = options.requireTokenForReads ?? false;
  const reads = createBoundedReads(sql, options.queryTimeoutMs ?? dashboardDefaults.queryTimeoutMs);

  const ownRegistry = options.registry === undefined;
  const registry = options.registry ?? new Registry();
  if (ownRegistry) registerProcessMetrics(registry);
  const unregisterMetrics = registerDashboardMetrics({ registry, sql, catalog, queue, logger, timeoutMs });

  const app = new Hono();
  // Order matters: headers wrap every answer (refusals included); a wrong Host, an oversized
  // body and a locked-out client are refused before any route reads anything.
  app.use('*', securityHeaders({ inlineScripts: [PAGE_SCRIPT, LOGIN_SCRIPT] }));
  app.use('*', requireAllowedHost(hostCheck, HEALTH_PATHS));
  app.use(
    '*',
    limitRequestBodies({
      maxBytes: options.maxBodyBytes ?? dashboardDefaults.maxBodyBytes,
      maxDepth: options.maxJsonDepth ?? dashboardDefaults.maxJsonDepth,
    }),
  );
  app.use('*', accessGate({ tokenCheck, throttle, readsNeedToken: () => readsNeedToken, open: new Set([...HEALTH_PATHS, '/api/session']) }));
  app.route('/', healthRoutes({ sql, queue, timeoutMs, logger }));
  app.route('/', pageRoutes({ reads, catalog, queue, nextRuns, writesEnabled: tokenCheck.configured, trendPoints, timeoutMs, timeZone: options.timeZone ?? dashboardDefaults.timeZone, logger }));
  app.route('/api', viewRoutes({ reads, catalog, nextRuns }));
  app.route('/api', refreshRoutes({ sql, catalog, queue, queueTarget: options.queueTarget, tokenCheck, logger, timeoutMs }));
  app.route('/api', boardSessionRoutes(tokenCheck));
  app.route('/queues', createBoardApp({ queue, tokenCheck, basePath: '/queues' }));
  app.get('/metrics', async (c) => c.body(await registry.metrics(), 200, { 'Content-Type': registry.contentType }));
  options.extraRoutes?.(app);

  app.notFound(notFoundOrNotAllowed(createAllowedMethods(app)));
  // Pages answer errors with the error page, everything else with JSON `{ error }`.
  app.onError((error, c) => answerError(c, error, { logger, page: c.req.method === 'GET' && PAGE_PATHS.has(c.req.path) ? {} : undefined }));

  const listeners = new Set<DashboardListener>();
  let closed: Promise<void> | undefined;

  async function listen(port: number, host = '127.0.0.1'): Promise<DashboardListener> {
    if (closed) throw new Error('dashboard is closed');
    if (!(Number.isInteger(port) && port >= 0 && port <= 65_535)) throw new ConfigError(`listen: port must be an integer 0-65535 (got ${port})`);
    const exposed = !isLoopbackHost(host);
    if (exposed && options.requireTokenForReads === undefined) readsNeedToken = true;
    if (options.allowedHosts === undefined && !isWildcardAddress(host)) hostCheck.add(host);
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
    logger.info({ url: listener.url, allowedHosts: hostCheck.patterns, readsNeedToken }, 'dashboard listening');
    if (exposed && options.allowedHosts === undefined && isWildcardAddress(host)) {
      logger.warn(
        { allowedHosts: hostCheck.patterns },
        'the dashboard listens on every interface but answers only to these host names: list the names clients use in dashboard.allowedHosts or MVFLEET_DASHBOARD_ALLOWED_HOSTS',
      );
    }
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
