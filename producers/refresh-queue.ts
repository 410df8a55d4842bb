import { Queue, type ConnectionOptions } from 'bullmq';
import type { Catalog } from '../core/catalog.js';
import { JOB_NAMES, REFRESH_QUEUE, parseRefreshJob, refreshJobOptions, type RefreshJobInput } from './job-contract.js';

/** Options for {@link createRefreshQueue}. */
export interface RefreshQueueOptions {
  /** An ioredis connection (shared, not closed by the queue) or connection options. */
  connection: ConnectionOptions;
  /**
   * Redis key prefix. The braces make it a Redis Cluster hash tag: one fleet, one slot.
   * @defaultValue '{mvfleet}'
   */
  prefix?: string;
}

/** The BullMQ queue of refresh requests. */
export function createRefreshQueue(options: RefreshQueueOptions): Queue {
  const queue = new Queue(REFRESH_QUEUE, { connection: options.connection, prefix: options.prefix ?? '{mvfleet}' });
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
