import { describe, expect, it } from 'vitest';
import { createRefreshQueue, enqueueRefresh } from '../src/queue/refresh-queue.js';
import { demoCatalog } from '../examples/demo/schema/catalog.js';
import { seedDemo } from '../examples/demo/seed/index.js';
import { createRefreshExecutor } from '../src/workers/refresh-executor.js';
import { useTestDatabase } from './helpers/database.js';
import { useChildProcesses } from './helpers/processes.js';
import { useTestQueue, type TestQueue } from './helpers/queue-backend.js';
import { logRows } from './helpers/refresh-log.js';
import { waitUntil } from './helpers/wait.js';

const VIEW = 'tournament_analytics_summary';

/**
 * Worker processes with test policies: job locks of 2 s and a stalled check every second,
 * so a killed worker's job moves on within seconds instead of a minute.
 */
function workerConfig(db: { url: string }, backends: TestQueue, workerId: string, extra = {}) {
  return {
    databaseUrl: db.url,
    queue: backends.fixtureConfig(),
    workerId,
    views: { [VIEW]: { lockTimeoutMs: 60_000, statementTimeoutMs: 120_000 } },
    worker: { lockDurationMs: 2_000, stalledIntervalMs: 1_000, concurrency: 1, ...extra },
  };
}

describe('worker processes that die or stop mid-refresh', () => {
  const db = useTestDatabase({ max: 12 });
  const backends = useTestQueue(db);
  const processes = useChildProcesses();

  /** Holds a lock on a source table so a refresh stays in progress until released. */
  async function holdSourceLock() {
    const blocker = await db.sql.reserve();
    await blocker`BEGIN`;
    await blocker`LOCK TABLE prize_transactions IN ACCESS EXCLUSIVE MODE`;
    return async () => {
      await blocker`COMMIT`;
      blocker.release();
    };
  }

  const viewCount = async () =>
    (await db.sql<[{ count: number }]>`SELECT count(*)::int AS count FROM tournament_analytics_summary`)[0].count;

  const runningRowOf = (workerId: string) =>
    waitUntil(`a running refresh by ${workerId}`, async () =>
      (await logRows(db.sql, VIEW)).find((row) => row.status === 'running' && row.worker_id === workerId),
    );

  it('SIGKILL mid-refresh: the view keeps its rows, another worker completes, the lost attempt is closed', async () => {
    await seedDemo({ sql: db.sql, scale: 'small' });
    await createRefreshExecutor({ sql: db.sql, catalog: demoCatalog }).refresh({ view: VIEW, reason: 'manual' });
    const before = await viewCount();
    await db.sql`
      INSERT INTO tournaments (id, name, game, status, prize_pool)
      SELECT 900000 + g, 'late ' || g, 'chess', 'registration', 0 FROM generate_series(1, 5) g`;

    const release = await holdSourceLock();
    const first = processes.worker(workerConfig(db, backends, 'worker-a'));
    await first.waitFor('ready');
    const queue = createRefreshQueue(backends.backend('producer'));
    const { jobId } = await enqueueRefresh(queue, demoCatalog, { view: VIEW, reason: 'manual', requestedAt: new Date().toISOString() });
    await runningRowOf('worker-a');

    const reads: number[] = [];
    let reading = true;
    const reader = (async () => {
      while (reading) reads.push(await viewCount());
    })();

    first.child.kill('SIGKILL');
    await first.exited;
    const second = processes.worker(workerConfig(db, backends, 'worker-b'));
    await second.waitFor('ready');
    await runningRowOf('worker-b');
    const lost = (await logRows(db.sql, VIEW)).find((row) => row.worker_id === 'worker-a')!;
    expect(lost).toMatchObject({ status: 'failed', job_id: jobId });
    expect(lost.error_message).toMatch(/worker lost/);
    expect(await viewCount()).toBe(before);

    await release();
    const success = await waitUntil('the refresh by the second worker', async () =>
      (await logRows(db.sql, VIEW)).find((row) => row.worker_id === 'worker-b' && row.status === 'success'),
    );
    reading = false;
    await reader;
    expect(success.job_id).toBe(jobId);
    expect(await viewCount()).toBe(before + 5);
    // Readers were answered throughout, with the previous rows until the new ones committed.
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.every((count) => count === before || count === before + 5)).toBe(true);
    expect(reads[0]).toBe(before);
    const jobRows = (await logRows(db.sql, VIEW)).filter((row) => row.job_id === jobId);
    expect(jobRows.map((row) => [row.worker_id, row.status])).toEqual([
      ['worker-a', 'failed'],
      ['worker-b', 'success'],
    ]);
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
    await queue.close();
  }, 60_000);

  it('SIGTERM during a long refresh: exits within its grace period, the view keeps its rows, the job goes back', async () => {
    const before = await viewCount();
    await db.sql`
      INSERT INTO tournaments (id, name, game, status, prize_pool)
      SELECT 910000 + g, 'later ' || g, 'go', 'registration', 0 FROM generate_series(1, 3) g`;
    const release = await holdSourceLock();
    const worker = processes.worker(workerConfig(db, backends, 'worker-c', { shutdownGraceMs: 500 }));
    await worker.waitFor('ready');
    const queue = createRefreshQueue(backends.backend('producer'));
    const { jobId } = await enqueueRefresh(queue, demoCatalog, { view: VIEW, reason: 'manual', requestedAt: new Date().toISOString() });
    await runningRowOf('worker-c');

    const stopAt = Date.now();
    worker.child.kill('SIGTERM');
    const exit = await worker.exited;
    expect(exit.code).toBe(0);
    expect(Date.now() - stopAt).toBeLessThan(10_000);
    expect(await viewCount()).toBe(before);
    const cancelled = (await logRows(db.sql, VIEW)).find((row) => row.job_id === jobId)!;
    expect(cancelled).toMatchObject({ status: 'failed', error_code: '57014' });
    expect(cancelled.error_message).toBe('cancelled: worker shutting down');
    // The job went back to the queue without spending an attempt.
    const job = await queue.getJob(jobId);
    expect(await job!.getState()).toMatch(/delayed|waiting/);
    expect(job!.attemptsMade).toBe(0);

    await release();
    const next = processes.worker(workerConfig(db, backends, 'worker-d'));
    await next.waitFor('ready');
    await waitUntil('the job to complete on another worker', async () =>
      (await logRows(db.sql, VIEW)).find((row) => row.job_id === jobId && row.status === 'success'),
    );
    expect(await viewCount()).toBe(before + 3);
    await queue.close();
  }, 60_000);
});
