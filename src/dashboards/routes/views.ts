import { Hono } from 'hono';
import type { Catalog } from '../../catalog/catalog.js';
import { isAuthenticated } from '../access.js';
import type { BoundedReads } from '../bounded-reads.js';
import { integerQuery, viewParam } from '../http-error.js';
import { redactDetails } from '../redact.js';
import { readRefreshLogs } from '../refresh-logs.js';
import { readRefreshStats } from '../refresh-stats.js';
import { readViewStatuses } from '../view-status.js';

/** What the read-only JSON routes need. */
export interface ViewRoutesDeps {
  /** Runs the routes' queries under the dashboard's statement timeout. */
  reads: BoundedReads;
  catalog: Catalog;
  nextRuns: () => Promise<ReadonlyMap<string, Date>>;
}

/** Longest window `/api/stats?days=` accepts: the query scans the log over the whole window. */
export const MAX_STATS_DAYS = 90;

/**
 * `GET /views`, `GET /views/:view/logs`, `GET /stats` (mounted under `/api`). Error messages
 * are shortened for viewers without the token (see `redactDetails`).
 */
export function viewRoutes({ reads, catalog, nextRuns }: ViewRoutesDeps): Hono {
  const app = new Hono();

  app.get('/views', async (c) => {
    const runs = await nextRuns();
    const statuses = await reads((sql) => readViewStatuses(sql, catalog, { nextRuns: runs }));
    return c.json(isAuthenticated(c) ? statuses : statuses.map((status) => ({ ...status, last_error: redactDetails(status.last_error) })));
  });

  app.get('/views/:view/logs', async (c) => {
    const view = viewParam(catalog, c.req.param('view'));
    const limit = integerQuery(c, 'limit', { min: 1, max: 1_000, fallback: 50 });
    const logs = await reads((sql) => readRefreshLogs(sql, catalog.store, { view: view.name, limit }));
    return c.json(isAuthenticated(c) ? logs : logs.map((entry) => ({ ...entry, error_message: redactDetails(entry.error_message) })));
  });

  app.get('/stats', async (c) => {
    const days = integerQuery(c, 'days', { min: 1, max: MAX_STATS_DAYS, fallback: 7 });
    const stats = await reads((sql) => readRefreshStats(sql, catalog, days));
    if (isAuthenticated(c)) return c.json(stats);
    return c.json({
      ...stats,
      views: stats.views.map((view) => ({
        ...view,
        recent_failures: view.recent_failures.map((failure) => ({ ...failure, error_message: redactDetails(failure.error_message) })),
      })),
    });
  });

  return app;
}
