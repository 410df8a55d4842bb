import type { Queue } from 'bullmq';
import type { Catalog } from '../catalog/catalog.js';
import type { QueueBackend } from './queue-backend.js';
import { JOB_NAMES, REFRESH_QUEUE, parseRefreshJob, refreshJobOptions, type RefreshJobInput } from './job-contract.js';

/** The BullMQ queue of refresh requests, on the fleet's backend. */
export function createRefreshQueue(backend: QueueBackend): Queue {
  const queue = backend.queue(REFRESH_QUEUE);
  // Without a listener an 'error' event would crash the process; callers see failures as rejected calls.
  queue.on('error', () => {});
  return queue;
}

/** One request to enqueue. */
export interface EnqueueRefresh extends RefreshJobInput {
  /**
   * Wait before the job becomes runnable; requests for the view arriving meanwhile share it.
   * @defaultValue 0
   */
  delayMs?: number;
  /**
   * Requests with the same key share one pending job (and at most one more while it runs).
   * @defaultValue the view name, suffixed with the mode when it is not `auto`
   */
  coalesceKey?: string;
}

/**
 * Adds a refresh job, coalescing with pending requests for the view (see `refreshJobOptions`).
 * Resolves once the job (or the request it joined) is stored in Redis.
 */
export async function enqueueRefresh(queue: Queue, catalog: Catalog, request: EnqueueRefresh): Promise<{ jobId: string }> {
  const view = catalog.get(request.view);
  const data = parseRefreshJob(request);
  const job = await queue.add(
    JOB_NAMES.refresh,
    data,
    refreshJobOptions(view, data, { delayMs: request.delayMs, coalesceKey: request.coalesceKey }),
  );
  return { jobId: job.id ?? '' };
}
