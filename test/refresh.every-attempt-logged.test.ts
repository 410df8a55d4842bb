import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { demoCatalog } from '../examples/demo/schema/catalog.js';
import { seedDemo } from '../examples/demo/seed/index.js';
import { createRefreshQueue, enqueueRefresh } from '../src/queue/refresh-queue.js';
import { createWorker } from '../src/workers/refresh-worker.js';
import { useTestDatabase } from './helpers/database.js';
import { useTestQueue } from './helpers/queue-backend.js';
import { deleteRedisKeys } from './helpers/redis-keys.js';
import { logRows } from './helpers/refresh-log.js';
import { waitUntil } from './helpers/wait.js';

const VIEW = 'mv_kpi_dashboard';

describe('every refresh attempt has a log row', () => {
  const db = useTestDatabase({ max: 12 });
  const backends = useTestQueue(db);

  beforeAll(async () => {
    await seedDemo({ sql: db.sql, scale: 'small' });
  });

  const jobRows = async (jobId: string) => (await logRows(db.sql, VIEW)).filter((row) => row.job_id === jobId);

  /**
   * The statement that takes a view's fence reads the engine's tables, so a test transaction
   * holding one of them stops every attempt there, before its running row is written; an
   * operator then cancels the waiting statement. Deterministic, and the failure comes before
   * the refresh statement as a lost connection would.
   */
  it('an attempt cancelled in the fence statement, before its running row, gets a failed row and runs again at once', async () => {
    const ownBackend = backends.isolated('fence');
    const worker = createWorker({ backend: ownBackend, sql: db.sql, catalog: demoCatalog, workerId: 'fence-worker', concurrency: 1 });
    await worker.ready();
    const queue = createRefreshQueue(ownBackend);

    const holder = await db.sql.reserve();
    await holder`BEGIN`;
    await holder`LOCK TABLE mvfleet.mv_dirty_keys IN ACCESS EXCLUSIVE MODE`;
    let held = true;
    const release = async () => {
      if (!held) return;
      held = false;
      await holder`ROLLBACK`;
      holder.release();
    };
    onTestFinished(release);
    const requestedAt = new Date().toISOString();
    const { jobId } = await enqueueRefresh(queue, demoCatalog, { view: VIEW, reason: 'api', triggerDetail: 'fence test', requestedAt });
    const fence = await waitUntil('the fence statement waiting on the held table', async () => {
      const [row] = await db.sql<{ pid: number }[]>`
        SELECT pid FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%pg_try_advisory_xact_lock%'`;
      return row;
    });
    expect(await jobRows(jobId)).toEqual([]);
    await db.sql`SELECT pg_cancel_backend(${fence.pid})`;

    const [failed] = await waitUntil('a failed row for the cancelled attempt', async () => {
      const rows = await db.sql<{ status: string; error_code: string | null; error_message: string; attempt: number; worker_id: string; reason: string; trigger_detail: string; requested_at: Date }[]>`
        SELECT status, error_code, error_message, attempt, worker_id, reason, trigger_detail, requested_at
        FROM mvfleet.mv_refresh_log WHERE job_id = ${jobId}`;
      return rows.length > 0 ? rows : null;
    });
    expect(failed).toMatchObject({
      status: 'failed',
      error_code: '57014',
      attempt: 1,
      worker_id: 'fence-worker',
      reason: 'api',
      trigger_detail: 'fence test',
      requested_at: new Date(requestedAt),
    });
    expect(failed!.error_message).toMatch(/due to user request/);

    await release();
    await waitUntil('the job to succeed', async () => (await jobRows(jobId)).find((row) => row.status === 'success'));
    // Nothing was skipped in the log, and the environment's failure spent no attempt.
    expect((await jobRows(jobId)).map((row) => [row.status, row.attempt])).toEqual([
      ['failed', 1],
      ['success', 1],
    ]);
    await queue.close();
    await worker.close();
  }, 30_000);

  it('an attempt that fails in the fence statement on the view\'s side gets its failed row at once', async () => {
    const ownBackend = backends.isolated('missing_table');
    const worker = createWorker({ backend: ownBackend, sql: db.sql, catalog: demoCatalog, concurrency: 1 });
    await worker.ready();
    const queue = createRefreshQueue(ownBackend);
    // An engine table the fence statement reads is gone (a half-applied engine migration).
    await db.sql`ALTER TABLE mvfleet.mv_table_state RENAME TO mv_table_state_away`;
    try {
      const { jobId } = await enqueueRefresh(queue, demoCatalog, { view: VIEW, reason: 'manual', requestedAt: new Date().toISOString() });
      const [failed] = await waitUntil('a failed row', async () => {
        const rows = await jobRows(jobId);
        return rows.length > 0 ? rows : null;
      });
      expect(failed).toMatchObject({ status: 'failed', error_code: '42P01', attempt: 1 });
      expect(failed!.error_message).toMatch(/mv_table_state/);
      // The job fails (BullMQ's PostgreSQL backend keeps no failedReason on the job it returns).
      await waitUntil('the job to fail', async () => (await (await queue.getJob(jobId))?.getState()) === 'failed' || null);
    } finally {
      await db.sql`ALTER TABLE mvfleet.mv_table_state_away RENAME TO mv_table_state`;
    }
    await queue.close();
    await worker.close();
  }, 30_000);

  /** Deletes the queue's whole store, as a Redis that lost its data (only this file's keys or schema). */
  async function wipeQueueStore() {
    const config = backends.fixtureConfig();
    if (config.kind === 'redis') {
      await deleteRedisKeys(config.url, `${config.prefix}*`);
    } else {
      await db.sql`TRUNCATE mvfleet_queue.job, mvfleet_queue.dedup, mvfleet_queue.dedup_next CASCADE`;
      for (const { name } of await db.sql<{ name: string }[]>`
        SELECT sequencename AS name FROM pg_sequences WHERE schemaname = 'mvfleet_queue' AND sequencename LIKE 'bullmq_jid_%'`) {
        await db.sql.unsafe(`DROP SEQUENCE mvfleet_queue."${name}"`);
      }
    }
  }

  it('log rows of two refresh jobs have distinct job ids even after the queue lost its data in between', async () => {
    const refreshOnce = async () => {
      const backend = backends.backend();
      const worker = createWorker({ backend, sql: db.sql, catalog: demoCatalog, concurrency: 1 });
      await worker.ready();
      const queue = createRefreshQueue(backend);
      const { jobId } = await enqueueRefresh(queue, demoCatalog, { view: VIEW, reason: 'manual', requestedAt: new Date().toISOString() });
      const row = await waitUntil('the refresh', async () => (await jobRows(jobId)).find((r) => r.status === 'success'));
      await queue.close();
      await worker.close();
      return row;
    };

    const first = await refreshOnce();
    await wipeQueueStore();
    const second = await refreshOnce();
    expect(first.job_id).toBeTruthy();
    expect(second.job_id).not.toBe(first.job_id);
    const ids = (await logRows(db.sql)).map((row) => row.job_id);
    expect(ids.filter((id) => id === second.job_id)).toHaveLength(1);
  }, 30_000);
});
