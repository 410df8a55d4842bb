import { Hono } from 'hono';
import type { Queue } from 'bullmq';
import type { Catalog } from '../../catalog/catalog.js';
import type { Logger } from '../../core/logger.js';
import type { Queryable } from '../../core/db.js';
import { requestRefresh } from '../../queue/request-refresh.js';
import { requireToken, type TokenCheck } from '../auth.js';
import { viewParam } from '../http-error.js';

/** What the write routes need. */
export interface RefreshRoutesDeps {
  /** Where the requests are recorded before their jobs are enqueued. */
  sql: Queryable;
  catalog: Catalog;
  queue: Queue;
  tokenCheck: TokenCheck;
  logger: Logger;
}

/** Body of a 202 answer: one enqueued (or coalesced) job per view. */
export interface RefreshAccepted {
  requested_at: string;
  jobs: { view: string; job_id: string }[];
}

/** `POST /views/:view/refresh` and `POST /refresh-all` (mounted under `/api`), bearer token only. */
export function refreshRoutes({ sql, catalog, queue, tokenCheck, logger }: RefreshRoutesDeps): Hono {
  const app = new Hono();
  // Cookies are not accepted here: the JSON API is for scripts and the freshness page, which send the header.
  const guard = requireToken(tokenCheck, { cookie: false });

  const enqueue = async (views: string[]): Promise<RefreshAccepted> => {
    const requestedAt = new Date().toISOString();
    const jobs: RefreshAccepted['jobs'] = [];
    for (const view of views) {
      const { jobId } = await requestRefresh({ sql, queue, catalog }, { view, reason: 'api', triggerDetail: 'dashboard', requestedAt });
      jobs.push({ view, job_id: jobId });
    }
    logger.info({ views, jobs: jobs.map((job) => job.job_id) }, 'refresh requested through the dashboard');
    return { requested_at: requestedAt, jobs };
  };

  app.post('/views/:view/refresh', guard, async (c) => {
    const view = viewParam(catalog, c.req.param('view'));
    return c.json(await enqueue([view.name]), 202);
  });

  app.post('/refresh-all', guard, async (c) => c.json(await enqueue(catalog.views.map((view) => view.name)), 202));

  return app;
}
