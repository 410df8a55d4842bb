import { createDb, type DbHandle } from '../src/core/db.js';
import type { Catalog } from '../src/catalog/catalog.js';
import { createRedisQueueBackend, type QueueBackend } from '../src/queue/queue-backend.js';
import { createProducer, type Producer } from '../src/producers/producer.js';
import { createRefreshQueue } from '../src/queue/refresh-queue.js';
import type { RefreshExecutorEvents } from '../src/workers/refresh-executor.js';
import { createWorker, type RefreshWorker } from '../src/workers/refresh-worker.js';

type Success = RefreshExecutorEvents['refresh:success'][0];

/** A producer and one idle worker in this process, on a queue prefix of their own. */
export interface InProcessFleet {
  fleet: Producer;
  worker: RefreshWorker;
  /**
   * Resolves with the next successful refresh of `view` by this worker. Call it *before*
   * making the request, so a fast refresh cannot finish before anyone listens.
   */
  nextSuccess(view: string, timeoutMs?: number): Promise<Success & { at: number }>;
  /** When the worker took the job (BullMQ's `processedOn`, epoch ms), to split pickup into queue and executor time. */
  processedOn(jobId: string): Promise<number | undefined>;
  close(): Promise<void>;
}

export async function startInProcessFleet(options: {
  databaseUrl: string;
  redisUrl: string;
  prefix: string;
  catalog: Catalog;
}): Promise<InProcessFleet> {
  const { catalog } = options;
  // Its own pool: the worker needs two connections per refresh (refresh transaction + log rows).
  const db: DbHandle = createDb({ url: options.databaseUrl, max: 6, applicationName: 'mvfleet-bench-worker' });
  const backend: QueueBackend = createRedisQueueBackend({ url: options.redisUrl, prefix: options.prefix });
  const worker = createWorker({ backend, sql: db.sql, catalog, concurrency: 2, workerId: 'bench-in-process' });
  await worker.ready();
  const fleet = createProducer({ catalog, redisUrl: options.redisUrl, prefix: options.prefix });
  const queue = createRefreshQueue(backend);

  function nextSuccess(view: string, timeoutMs = 120_000): Promise<Success & { at: number }> {
    return new Promise((resolve, reject) => {
      const onSuccess = (event: Success) => {
        if (event.view !== view) return;
        cleanup();
        resolve({ ...event, at: performance.now() });
      };
      const onFailed = (event: RefreshExecutorEvents['refresh:failed'][0]) => {
        if (event.view !== view) return;
        cleanup();
        reject(event.error);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no successful refresh of ${view} within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        worker.executor.off('refresh:success', onSuccess);
        worker.executor.off('refresh:failed', onFailed);
      };
      worker.executor.on('refresh:success', onSuccess);
      worker.executor.on('refresh:failed', onFailed);
    });
  }

  return {
    fleet,
    worker,
    nextSuccess,
    async processedOn(jobId) {
      return (await queue.getJob(jobId))?.processedOn;
    },
    async close() {
      await queue.close();
      await fleet.close();
      await worker.close();
      await backend.close();
      await db.close();
    },
  };
}
