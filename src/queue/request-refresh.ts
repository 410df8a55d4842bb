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
  const view = deps.catalog.get(request.view);
  if (deps.sql && request.scope !== 'keys') {
    await recordRequests(deps.sql, deps.catalog.store, {
      requests: [{ view: view.name, reason: request.reason, triggerDetail: request.triggerDetail ?? null, dueInMs: request.delayMs ?? 0 }],
    });
  }
  return enqueueRefresh(deps.queue, deps.catalog, request);
}
