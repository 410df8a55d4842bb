import { Hono } from 'hono';
import type { Catalog } from '../../catalog/catalog.js';
import type { Queryable } from '../../core/db.js';
import { integerQuery, viewParam } from '../http-error.js';
import { readRefreshLogs } from '../refresh-logs.js';
import { readRefreshStats } from '../refresh-stats.js';
import { readViewStatuses } from '../view-status.js';

/** What the read-only JSON routes need. */
export interface ViewRoutesDeps {
  sql: Queryable;
  catalog: Catalog;
  nextRuns: () => Promise<ReadonlyMap<string, Date>>;
}

/** `GET /views`, `GET /views/:view/logs`, `GET /stats` (mounted under `/api`). */
export function viewRoutes({ sql, catalog, nextRuns }: ViewRoutesDeps): Hono {
  const app = new Hono();

  app.get('/views', async (c) => c.json(await readViewStatuses(sql, catalog, { nextRuns: await nextRuns() })));

  app.get('/views/:view/logs', async (c) => {
    const view = viewParam(catalog, c.req.param('view'));
    const limit = integerQuery(c, 'limit', { min: 1, max: 1_000, fallback: 50 });
    return c.json(await readRefreshLogs(sql, catalog.store, { view: view.name, limit }));
  });

  app.get('/stats', async (c) => {
    const days = integerQuery(c, 'days', { min: 1, max: 365, fallback: 7 });
    return c.json(await readRefreshStats(sql, catalog, days));
  });

  return app;
}
