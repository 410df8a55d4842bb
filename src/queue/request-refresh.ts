import type { Queue } from 'bullmq';
import type { Catalog } from '../catalog/catalog.js';
import type { Queryable } from '../core/db.js';
import { enqueueRefresh, type EnqueueRefresh } from './refresh-queue.js';
import { recordRequests } from '../store/pending-requests.js';

/**
 * Asks for a refresh the durable way: the whole-view request is recorded in PostgreSQL first
 * (when `sql` is given), then its job wakes a worker. If the job is lost, the workers' sweep
 * finds the request and asks again. Key requests are recorded as dirty keys by their producer.
 */
export async function requestRefresh(
  deps: { sql?: Queryable | undefined; queue: Queue; catalog: Catalog },
  request: EnqueueRefresh,
): Promise<{ jobId: string }> {
  if (deps.sql) await recordRefreshRequests(deps.sql, deps.catalog, [request]);
  return enqueueRefresh(deps.queue, deps.catalog, request);
}

/**
 * The first half of {@link requestRefresh}, for callers that take the two steps themselves (the
 * dashboard says which one failed): records the whole-view requests among `requests` in one
 * statement, all or none. Once this resolves they are not lost, whatever becomes of their jobs.
 */
export async function recordRefreshRequests(sql: Queryable, catalog: Catalog, requests: readonly EnqueueRefresh[]): Promise<void> {
  const wholeView = requests.filter((request) => request.scope !== 'keys');
  await recordRequests(sql, catalog.store, {
    requests: wholeView.map((request) => ({
      view: catalog.get(request.view).name,
      reason: request.reason,
      triggerDetail: request.triggerDetail ?? null,
      dueInMs: request.delayMs ?? 0,
    })),
  });
}
