import { describe, expect, it } from 'vitest';
import { createRefreshQueue, enqueueRefresh } from '../src/queue/refresh-queue.js';
import { demoCatalog } from '../examples/demo/schema/catalog.js';
import { seedDemo } from '../examples/demo/seed/index.js';
import { runCli } from './helpers/cli.js';
import { useTestDatabase } from './helpers/database.js';
import { useChildProcesses } from './helpers/processes.js';
import { useTestQueue } from './helpers/queue-backend.js';
import { logRows, overlappingAttempts } from './helpers/refresh-log.js';
import { waitUntil } from './helpers/wait.js';

const VIEW = 'tournament_analytics_summary';

/**
 * Three worker processes and the CLI hammer one view. Requests use distinct coalescing
 * keys so that BullMQ hands many jobs of the same view to different workers at once: only
 * the per-view fence in PostgreSQL keeps their refreshes from overlapping.
 */
describe('one refresh per view at a time, across processes', () => {
  const db = useTestDatabase();
  const backends = useTestQueue(db);
  const processes = useChildProcesses();

  it('never overlaps two attempts of a view, and logs every attempt', async () => {
    await seedDemo({ sql: db.sql, scale: 'small' });
    const env = { DATABASE_URL: db.url, ...backends.env(), LOG_LEVEL: 'info' };
    const workers = [1, 2, 3].map(() => processes.cli(['worker', '--concurrency', '3'], env));
    await Promise.all(workers.map((worker) => worker.waitFor('"worker started"')));

    const queue = createRefreshQueue(backends.backend('producer'));
    const jobIds: string[] = [];
    for (let round = 0; round < 8; round++) {
      const burst = Array.from({ length: 6 }, (_, i) =>
        enqueueRefresh(queue, demoCatalog, {
          view: VIEW,
          reason: 'manual',
          triggerDetail: `hammer ${round}.${i}`,
          requestedAt: new Date().toISOString(),
          coalesceKey: `hammer-${round}-${i}`,
          mode: i % 3 === 0 ? 'plain' : 'auto',
        }),
      );
      const cli = runCli(['refresh', VIEW, '--reason', `cli ${round}`], env);
      jobIds.push(...(await Promise.all(burst)).map((job) => job.jobId));
      expect((await cli).code).toBe(0);
    }

    await waitUntil('the queue to drain', async () => {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      return Object.values(counts).every((count) => count === 0);
    }, { timeoutMs: 90_000, intervalMs: 100 });

    const rows = await logRows(db.sql, VIEW);
    expect(rows.filter((row) => row.status === 'running')).toEqual([]);
    expect(overlappingAttempts(rows)).toEqual([]);
    // Every job we enqueued ended in a logged attempt: refreshed, or skipped as already covered.
    const logged = new Set(rows.filter((row) => row.status === 'success' || row.status === 'skipped').map((row) => row.job_id));
    expect(jobIds.filter((id) => !logged.has(id))).toEqual([]);
    const workerIds = new Set(rows.filter((row) => row.status === 'success').map((row) => row.worker_id));
    expect(workerIds.size).toBeGreaterThan(1);
    expect(rows.filter((row) => row.status === 'success').length).toBeGreaterThan(10);
    await queue.close();
  }, 180_000);
});
