import type { Queue } from 'bullmq';
import { afterAll, beforeAll } from 'vitest';
import type { Catalog } from '../src/catalog/catalog.js';
import { createDashboard, type Dashboard, type DashboardListener, type DashboardOptions } from '../src/dashboards/index.js';
import { createRefreshQueue } from '../src/queue/refresh-queue.js';
import { demoCatalog } from '../examples/demo/schema/catalog.js';
import { createWorker, type RefreshWorker } from '../src/workers/refresh-worker.js';
import { useTestDatabase, type TestDatabase } from './helpers/database.js';
import { useTestQueue, type TestQueue } from './helpers/queue-backend.js';

/** A token long enough for the dashboard's check. */
export const TEST_TOKEN = 'test-token-0123456789abcdef';

export interface DashboardFixture {
  db: TestDatabase;
  backends: TestQueue;
  catalog: Catalog;
  readonly queue: Queue;
  /** A dashboard per configuration, each listening on its own free port. */
  start(options?: Partial<Omit<DashboardOptions, 'sql' | 'catalog' | 'queue'>>): Promise<{ dashboard: Dashboard; url: string }>;
  /** Starts (once) an in-process worker on this file's queue. */
  startWorker(): Promise<RefreshWorker>;
  /** Jobs in the queue in any state: what "nothing enqueued" is checked against. */
  jobCount(): Promise<number>;
}

/**
 * Real PostgreSQL (own database) and Redis (own prefix) for one test file, with dashboards
 * served over HTTP on free ports; everything is closed after the file.
 */
export function useDashboardFixture(catalog: Catalog = demoCatalog): DashboardFixture {
  const db = useTestDatabase();
  const backends = useTestQueue(db);
  let queue: Queue | undefined;
  let worker: RefreshWorker | undefined;
  const started: { dashboard: Dashboard; listener: DashboardListener }[] = [];

  beforeAll(() => {
    queue = createRefreshQueue(backends.backend('producer'));
  });

  afterAll(async () => {
    for (const { dashboard } of started) await dashboard.close();
    await worker?.close();
    await queue?.close();
  });

  const requireQueue = () => {
    if (!queue) throw new Error('the queue is created in beforeAll; use it inside tests');
    return queue;
  };

  return {
    db,
    backends,
    catalog,
    get queue() {
      return requireQueue();
    },
    async start(options = {}) {
      const dashboard = createDashboard({ sql: db.sql, catalog, queue: requireQueue(), ...options });
      const listener = await dashboard.listen(0);
      started.push({ dashboard, listener });
      return { dashboard, url: listener.url };
    },
    async startWorker() {
      worker ??= createWorker({
        backend: backends.backend(),
        sql: db.sql,
        catalog,
        workerId: 'dashboard-test-worker',
        busyRetryDelayMs: 50,
        shutdownGraceMs: 2_000,
      });
      await worker.ready();
      return worker;
    },
    async jobCount() {
      const counts = await requireQueue().getJobCounts();
      return Object.values(counts).reduce((sum, count) => sum + count, 0);
    },
  };
}

/** Fetches JSON, returning status and body. */
export async function getJson<T = unknown>(url: string, init?: RequestInit): Promise<{ status: number; body: T; headers: Headers }> {
  const response = await fetch(url, init);
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : null) as T, headers: response.headers };
}
