import { describe, expect, it } from 'vitest';
import { createProducer } from '../src/producers/producer.js';
import { seedDemo } from '../examples/demo/seed/index.js';
import { createRefreshExecutor } from '../src/workers/refresh-executor.js';
import { createWorker } from '../src/workers/refresh-worker.js';
import { demoCatalogWith } from './helpers/catalog.js';
import { useTestDatabase } from './helpers/database.js';
import { useTestQueue } from './helpers/queue-backend.js';
import { logRows } from './helpers/refresh-log.js';
import { waitUntil } from './helpers/wait.js';

const VIEW = 'mv_kpi_dashboard';

/**
 * A request ends in a successful refresh that started after it, or in a logged failure once the
 * view's own error exhausted its retries; it is not asked for again forever after that.
 */
describe('a refresh that fails for good on the view’s own error', () => {
  const db = useTestDatabase();
  const backends = useTestQueue(db);

  it('ends the requests it was to cover; a request made afterwards is refreshed', async () => {
    await seedDemo({ sql: db.sql, scale: 'small' });
    // No retries: the first lock timeout is final.
    const catalog = demoCatalogWith({ [VIEW]: { lockTimeoutMs: 150, retryBackoffMs: [] } });
    await createRefreshExecutor({ sql: db.sql, catalog }).refresh({ view: VIEW, reason: 'manual' });
    const pending = async () =>
      (await db.sql<[{ n: number }]>`SELECT count(*)::int AS n FROM mvfleet.mv_pending_requests WHERE view_name = ${VIEW}`)[0].n;

    // Another session holds ACCESS EXCLUSIVE on the view: every refresh of it times out.
    const holder = await db.sql.reserve();
    await holder`BEGIN`;
    await holder`REFRESH MATERIALIZED VIEW mv_kpi_dashboard`;
    const worker = createWorker({ backend: backends.backend(), sql: db.sql, catalog, concurrency: 1, pendingRescueAfterMs: 500, rescueIntervalMs: 200 });
    const producer = createProducer({ catalog, backend: backends.backend('producer'), sql: db.sql });
    try {
      await worker.ready();
      const failed = await producer.refresh(VIEW);
      await waitUntil('the failed attempt', async () =>
        (await logRows(db.sql, VIEW)).find((row) => row.status === 'failed' && row.started_at >= failed.requestedAt),
      );
      // Ended, not left for the rescue to ask for again and again.
      await waitUntil('its request ended', async () => (await pending()) === 0 || undefined);

      await holder`ROLLBACK`;
      const later = await producer.refresh(VIEW);
      await waitUntil('a refresh of the later request', async () =>
        (await logRows(db.sql, VIEW)).find((row) => row.status === 'success' && row.started_at >= later.requestedAt),
      );
      expect(await pending()).toBe(0);
    } finally {
      holder.release();
      await producer.close();
      await worker.close();
    }
  });
});
