import { Hono } from 'hono';
import type { Queue } from 'bullmq';
import type { Catalog, CatalogView } from '../../catalog/catalog.js';
import { oneLine } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { isAuthenticated } from '../access.js';
import type { BoundedReads } from '../bounded-reads.js';
import { answerError } from '../error-answer.js';
import { renderFreshnessPage, type FreshnessPageModel } from '../freshness-page.js';
import { readRecentDurations } from '../recent-durations.js';
import { readRefreshLogs } from '../refresh-logs.js';
import { readRefreshStats } from '../refresh-stats.js';
import { formatAge } from '../format.js';
import { nextCronRun } from '../next-cron-run.js';
import { redactDetails } from '../redact.js';
import { readViewStatuses } from '../view-status.js';
import { withTimeout } from '../../core/with-timeout.js';

/** What the freshness page needs. */
export interface PageRoutesDeps {
  /** Runs the page's queries under the dashboard's statement timeout. */
  reads: BoundedReads;
  catalog: Catalog;
  queue: Queue;
  nextRuns: () => Promise<ReadonlyMap<string, Date>>;
  writesEnabled: boolean;
  /** Points in each view's duration trend. */
  trendPoints: number;
  /** Bound on the queue counts call, in milliseconds. */
  timeoutMs: number;
  /** Zone of cron schedules that name none. */
  timeZone: string;
  logger: Logger;
}

const STATS_DAYS = 7;

/** `every 1h`, `cron 0 2 * * *`, `after mv_x`, `on events only`. */
function describeTrigger(view: CatalogView): string {
  if (view.schedule?.kind === 'every') return `every ${formatAge(view.schedule.everyMs / 1_000)}`;
  if (view.schedule?.kind === 'cron') return `cron ${view.schedule.pattern}`;
  return view.upstream.length > 0 ? `after ${view.upstream.join(', ')}` : 'on events only';
}

/** Next runs of cron-scheduled views the queue reported none for, computed from their patterns. */
function estimateNextRuns(catalog: Catalog, reported: ReadonlyMap<string, Date>, timeZone: string): Map<string, Date> {
  const estimated = new Map<string, Date>();
  const now = new Date();
  for (const view of catalog.views) {
    if (view.schedule?.kind !== 'cron' || reported.has(view.name)) continue;
    const next = nextCronRun(view.schedule.pattern, now, view.schedule.timeZone ?? timeZone);
    if (next) estimated.set(view.name, next);
  }
  return estimated;
}

/** The page's data as a viewer without the token sees it: error messages shortened, the queue's address left out. */
function redactModel(model: Pick<FreshnessPageModel, 'statuses' | 'stats' | 'queue'>): Pick<FreshnessPageModel, 'statuses' | 'stats' | 'queue'> {
  return {
    statuses: model.statuses.map((status) => ({ ...status, last_error: redactDetails(status.last_error) })),
    stats: model.stats.map((view) => ({
      ...view,
      recent_failures: view.recent_failures.map((failure) => ({ ...failure, error_message: redactDetails(failure.error_message) })),
    })),
    queue: redactQueue(model.queue),
  };
}

/** The queue's state without the reason it could not be read (it names the queue's address). */
function redactQueue(queue: FreshnessPageModel['queue']): FreshnessPageModel['queue'] {
  return 'error' in queue ? { name: queue.name, error: 'unreachable' } : queue;
}

/** `GET /`: the server-rendered freshness page, or the error page (503 while PostgreSQL is unreachable). */
export function pageRoutes(deps: PageRoutesDeps): Hono {
  const { reads, catalog, queue } = deps;
  const app = new Hono();
  app.get('/', async (c) => {
    const views = catalog.views.map((view) => view.name);
    const [nextRuns, queueState] = await Promise.all([
      deps.nextRuns(),
      // A Redis outage must not take the freshness page down with it: show the queue as unreachable.
      withTimeout(queue.getJobCounts(), deps.timeoutMs, 'queue job counts').then(
        (counts): FreshnessPageModel['queue'] => ({ name: queue.name, counts }),
        (error: unknown): FreshnessPageModel['queue'] => ({ name: queue.name, error: oneLine(error) }),
      ),
    ]);
    let data;
    try {
      data = await reads((sql) =>
        Promise.all([
          readViewStatuses(sql, catalog, { nextRuns }),
          readRefreshStats(sql, catalog, STATS_DAYS),
          readRecentDurations(sql, catalog.store, views, deps.trendPoints),
          readRefreshLogs(sql, catalog.store, { limit: 12 }),
        ]),
      );
    } catch (error) {
      // An HTML page, not the API's JSON: a browser shows the outage in the page's own layout,
      // next to the queue's state, and the page reloads itself until PostgreSQL answers again.
      const queueShown = isAuthenticated(c) ? queueState : redactQueue(queueState);
      return answerError(c, error, { logger: deps.logger, page: { queue: queueShown } });
    }
    const [statuses, stats, trends, recentRuns] = data;
    const shown = { statuses, stats: stats.views, queue: queueState };
    c.header('Cache-Control', 'no-store');
    return c.html(
      renderFreshnessPage({
        now: new Date(),
        ...(isAuthenticated(c) ? shown : redactModel(shown)),
        statsDays: STATS_DAYS,
        trends,
        recentRuns,
        triggers: new Map(catalog.views.map((view) => [view.name, describeTrigger(view)])),
        estimatedNextRuns: estimateNextRuns(catalog, nextRuns, deps.timeZone),
        writesEnabled: deps.writesEnabled,
      }),
    );
  });
  return app;
}
