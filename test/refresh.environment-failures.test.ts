import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { seedDemo } from '../examples/demo/seed/index.js';
import { createProducer } from '../src/producers/producer.js';
import { createRefreshQueue, enqueueRefresh } from '../src/queue/refresh-queue.js';
import { createRefreshExecutor } from '../src/workers/refresh-executor.js';
import { createWorker } from '../src/workers/refresh-worker.js';
import { demoCatalogWith } from './helpers/catalog.js';
import { useTestDatabase } from './helpers/database.js';
import { useTestQueue } from './helpers/queue-backend.js';
import { logRows } from './helpers/refresh-log.js';
import { waitUntil } from './helpers/wait.js';

const VIEW = 'mv_kpi_dashboard';
const EVENT = 'budget_version.status_changed';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('failures the environment causes and failures the view causes', () => {
  const db = useTestDatabase({ max: 12 });
  const backends = useTestQueue(db);

  beforeAll(async () => {
    await seedDemo({ sql: db.sql, scale: 'small' });
  });

  /** A test transaction holding a source of the view: its refresh waits until released. */
  async function holdSourceLock() {
    const holder = await db.sql.reserve();
    await holder`BEGIN`;
    await holder`LOCK TABLE enrollments IN ACCESS EXCLUSIVE MODE`;
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      await holder`ROLLBACK`;
      holder.release();
    };
    onTestFinished(release);
    return release;
  }

  /** The backend of the view's refresh while it waits on the test's lock. */
  const waitingRefreshPid = () =>
    waitUntil('the refresh waiting on the held lock', async () => {
      const [row] = await db.sql<{ pid: number }[]>`
        SELECT pid FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock'
          AND query ILIKE ${`REFRESH MATERIALIZED VIEW%${VIEW}%`}`;
      return row;
    });

  it(
    'an operator cancels the refresh (pg_cancel_backend); events keep arriving; a refresh covering them starts within 5 s, without the view backoff or an attempt spent',
    async () => {
      // The view keeps its default backoff (a minute): a retry that waited for it would time out.
      const catalog = demoCatalogWith({ [VIEW]: { lockTimeoutMs: 60_000, statementTimeoutMs: 120_000 } });
      expect(catalog.get(VIEW).retryBackoffMs[0]).toBe(60_000);
      await createRefreshExecutor({ sql: db.sql, catalog }).refresh({ view: VIEW, reason: 'manual' });
      const ownBackend = backends.isolated('cancelled');
      const worker = createWorker({ backend: ownBackend, sql: db.sql, catalog, concurrency: 2 });
      await worker.ready();
      const producer = createProducer({ catalog, backend: ownBackend });

      const release = await holdSourceLock();
      await producer.emit(EVENT, { budgetVersionId: 1 });
      const pid = (await waitingRefreshPid()).pid;
      const running = await waitUntil('the running row', async () =>
        (await logRows(db.sql, VIEW)).find((row) => row.status === 'running'),
      );
      expect(running.job_id).toMatch(UUID);
      // Events keep arriving while the refresh waits.
      for (let id = 2; id <= 4; id++) await producer.emit(EVENT, { budgetVersionId: id });
      const lastEventAt = Date.now();

      const cancelledAt = Date.now();
      await db.sql`SELECT pg_cancel_backend(${pid})`;
      await release();

      const failed = await waitUntil('the failed attempt', async () =>
        (await logRows(db.sql, VIEW)).find((row) => row.id === running.id && row.status === 'failed'),
      );
      expect(failed.error_code).toBe('57014');
      expect(failed.error_message).toMatch(/due to user request/);
      expect(failed.attempt).toBe(1);
      const success = await waitUntil(
        'a refresh covering the last event',
        async () =>
          (await logRows(db.sql, VIEW)).find((row) => row.status === 'success' && row.started_at.getTime() >= lastEventAt),
        { timeoutMs: 5_000 },
      );
      expect(success.started_at.getTime() - cancelledAt).toBeLessThan(5_000);
      // The same job ran again at once: no attempt spent, no other failure in between.
      expect(success).toMatchObject({ job_id: running.job_id, attempt: 1 });
      const jobRows = (await logRows(db.sql, VIEW)).filter((row) => row.job_id === running.job_id);
      expect(jobRows.map((row) => [row.status, row.attempt])).toEqual([
        ['failed', 1],
        ['success', 1],
      ]);

      await producer.close();
      await worker.close();
    },
    30_000,
  );

  it('a statement timeout is the view\'s failure: retried after the view backoff, spending attempts', async () => {
    const backoffMs = [400, 400, 400, 400];
    const catalog = demoCatalogWith({ [VIEW]: { lockTimeoutMs: 60_000, statementTimeoutMs: 1_000, retryBackoffMs: backoffMs } });
    const ownBackend = backends.isolated('statement_timeout');
    const worker = createWorker({ backend: ownBackend, sql: db.sql, catalog, concurrency: 1 });
    await worker.ready();
    const queue = createRefreshQueue(ownBackend);

    const release = await holdSourceLock();
    const { jobId } = await enqueueRefresh(queue, catalog, { view: VIEW, reason: 'manual', requestedAt: new Date().toISOString() });
    const failures = await waitUntil('two attempts failed on statement_timeout', async () => {
      const rows = (await logRows(db.sql, VIEW)).filter((row) => row.job_id === jobId && row.status === 'failed');
      return rows.length >= 2 ? rows : null;
    });
    await release();
    expect(failures.map((row) => [row.error_code, row.attempt])).toEqual([
      ['57014', 1],
      ['57014', 2],
    ]);
    expect(failures[0]!.error_message).toMatch(/statement timeout/);
    const gap = failures[1]!.started_at.getTime() - failures[0]!.finished_at!.getTime();
    expect(gap).toBeGreaterThanOrEqual(backoffMs[0]! - 50);

    const success = await waitUntil('a successful retry', async () =>
      (await logRows(db.sql, VIEW)).find((row) => row.job_id === jobId && row.status === 'success'),
    );
    expect(success.attempt).toBeGreaterThanOrEqual(3);
    await queue.close();
    await worker.close();
  }, 30_000);
});
