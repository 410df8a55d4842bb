import { describe, expect, it } from 'vitest';
import { createRefreshQueue, enqueueRefresh } from '../src/queue/refresh-queue.js';
import { seedDemo } from '../examples/demo/seed/index.js';
import { createRefreshExecutor } from '../src/workers/refresh-executor.js';
import { createWorker } from '../src/workers/refresh-worker.js';
import { demoCatalogWith } from './helpers/catalog.js';
import { useTestDatabase } from './helpers/database.js';
import { useTestQueue } from './helpers/queue-backend.js';
import { logRows } from './helpers/refresh-log.js';
import { waitUntil } from './helpers/wait.js';

const VIEW = 'mv_kpi_dashboard';
const BACKOFF_MS = [400, 400, 400, 400];

describe('a refresh blocked by a conflicting lock', () => {
  const db = useTestDatabase();
  const backends = useTestQueue(db);

  it('fails on lock_timeout, retries after the view backoff, and succeeds once the lock is gone', async () => {
    await seedDemo({ sql: db.sql, scale: 'small' });
    const catalog = demoCatalogWith({ [VIEW]: { lockTimeoutMs: 150, retryBackoffMs: BACKOFF_MS } });
    await createRefreshExecutor({ sql: db.sql, catalog }).refresh({ view: VIEW, reason: 'manual' });
    const before = await db.sql`SELECT * FROM mv_kpi_dashboard ORDER BY budget_version_id`;
    await db.sql`UPDATE enrollments SET student_count = student_count + 1`;

    // Another session refreshes the view outside mvfleet and keeps its transaction open:
    // it holds ACCESS EXCLUSIVE on the view, which conflicts with every refresh.
    const holder = await db.sql.reserve();
    await holder`BEGIN`;
    await holder`REFRESH MATERIALIZED VIEW mv_kpi_dashboard`;

    const worker = createWorker({ backend: backends.backend(), sql: db.sql, catalog, concurrency: 1 });
    await worker.ready();
    const queue = createRefreshQueue(backends.backend('producer'));
    const { jobId } = await enqueueRefresh(queue, catalog, {
      view: VIEW,
      reason: 'manual',
      requestedAt: new Date().toISOString(),
    });

    const failures = await waitUntil('two failed attempts on lock_timeout', async () => {
      const rows = (await logRows(db.sql, VIEW)).filter((row) => row.job_id === jobId && row.status === 'failed');
      return rows.length >= 2 ? rows : null;
    });
    expect(failures.map((row) => row.error_code)).toEqual(['55P03', '55P03']);
    expect(failures.map((row) => row.attempt)).toEqual([1, 2]);
    // The retry waited for the view's backoff, not BullMQ's default.
    const gap = failures[1]!.started_at.getTime() - failures[0]!.finished_at!.getTime();
    expect(gap).toBeGreaterThanOrEqual(BACKOFF_MS[0]! - 50);
    // Failed attempts left the view as it was (the outside session's uncommitted refresh aside).
    await holder`ROLLBACK`;
    holder.release();

    const success = await waitUntil('a successful retry', async () =>
      (await logRows(db.sql, VIEW)).find((row) => row.job_id === jobId && row.status === 'success'),
    );
    expect(success.attempt).toBeGreaterThanOrEqual(3);
    const after = await db.sql`SELECT * FROM mv_kpi_dashboard ORDER BY budget_version_id`;
    expect(after.length).toBe(before.length);
    expect(after).not.toEqual(before);
    expect((await logRows(db.sql, VIEW)).filter((row) => row.status === 'running')).toEqual([]);

    await worker.close();
    await queue.close();
  });
});
