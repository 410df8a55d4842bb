import { Hono } from 'hono';
import type { Queue } from 'bullmq';
import type { Catalog } from '../../catalog/catalog.js';
import type { Logger } from '../../core/logger.js';
import type { Queryable } from '../../core/db.js';
import { isConnectionFailure } from '../../core/connection-failures.js';
import { TimeoutError, withTimeout } from '../../core/with-timeout.js';
import { enqueueRefresh, type EnqueueRefresh } from '../../queue/refresh-queue.js';
import { recordRefreshRequests } from '../../queue/request-refresh.js';
import { requireToken, type TokenCheck } from '../auth.js';
import { viewParam } from '../http-error.js';
import { postgresUnreachable, UnavailableError } from '../unavailable.js';

/** What the write routes need. */
export interface RefreshRoutesDeps {
  /** Where the requests are recorded before their jobs are enqueued. */
  sql: Queryable;
  catalog: Catalog;
  queue: Queue;
  /** Where the queue's jobs live (`Redis at host:port`), named to the token's holders when it does not answer; undefined names the queue only. */
  queueTarget: string | undefined;
  tokenCheck: TokenCheck;
  logger: Logger;
  /** Bound on each step, recording and enqueueing, in milliseconds: a request never hangs on a datastore that does not answer. */
  timeoutMs: number;
}

/** Body of a 202 answer: one enqueued (or coalesced) job per view. */
export interface RefreshAccepted {
  requested_at: string;
  jobs: { view: string; job_id: string }[];
}

function listViews(views: readonly string[]): string {
  return views.length === 1 ? `the refresh of ${views[0]}` : `the refreshes of ${views.length} views`;
}

/**
 * `POST /views/:view/refresh` and `POST /refresh-all` (mounted under `/api`), bearer token only.
 * Each request takes `requestRefresh`'s two steps itself, so that a 503 can say truthfully what
 * became of it: PostgreSQL down means nothing was recorded (ask again); the queue down means the
 * request is recorded, and a worker's rescue of recorded requests without a job runs it once the
 * queue answers again.
 */
export function refreshRoutes({ sql, catalog, queue, queueTarget, tokenCheck, logger, timeoutMs }: RefreshRoutesDeps): Hono {
  const app = new Hono();
  // Cookies are not accepted here: the JSON API is for scripts and the freshness page, which send the header.
  const guard = requireToken(tokenCheck, { cookie: false });

  const enqueue = async (views: string[]): Promise<RefreshAccepted> => {
    const requestedAt = new Date().toISOString();
    const requests = views.map((view): EnqueueRefresh => ({ view, reason: 'api', triggerDetail: 'dashboard', requestedAt }));
    try {
      await withTimeout(recordRefreshRequests(sql, catalog, requests), timeoutMs, 'recording the request in PostgreSQL');
    } catch (error) {
      // Other failures (a missing table, a revoked privilege) are not an outage: they stay 500s.
      if (!(error instanceof TimeoutError || isConnectionFailure(error))) throw error;
      // A timed-out insert may still commit: the request is then not lost, but no one can tell yet.
      const outcome =
        error instanceof TimeoutError
          ? `${listViews(views)} may not be recorded: ask again once PostgreSQL answers (a repeated request joins a recorded one)`
          : 'nothing was recorded or enqueued: ask again once PostgreSQL answers';
      throw postgresUnreachable(error, outcome, { recorded: [] });
    }
    const jobs: RefreshAccepted['jobs'] = [];
    for (const request of requests) {
      try {
        const { jobId } = await withTimeout(enqueueRefresh(queue, catalog, request), timeoutMs, `enqueueing on queue "${queue.name}"`);
        jobs.push({ view: request.view, job_id: jobId });
      } catch (error) {
        // The other views' jobs would wait just as long: the recorded requests cover them all.
        const summary = `queue "${queue.name}" is unreachable`;
        throw new UnavailableError({
          summary,
          detailedSummary: queueTarget ? `queue "${queue.name}" (${queueTarget}) is unreachable` : summary,
          cause: error,
          outcome:
            `${listViews(views)} ${views.length === 1 ? 'is' : 'are'} recorded in PostgreSQL and will run once the queue answers again ` +
            '(a worker enqueues recorded requests that have no job)',
          fields: { queue: queue.name, recorded: views, jobs },
        });
      }
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
