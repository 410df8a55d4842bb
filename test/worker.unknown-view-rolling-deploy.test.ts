import type { Job, Queue } from 'bullmq';
import { pino, type Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { createCatalog, viewNameOf } from '../src/catalog/catalog.js';
import { createProducer } from '../src/producers/producer.js';
import { JOB_NAMES } from '../src/queue/job-contract.js';
import { createRefreshQueue } from '../src/queue/refresh-queue.js';
import { createWorker } from '../src/workers/refresh-worker.js';
import { demoCatalog, demoViewDefinitions } from '../examples/demo/schema/catalog.js';
import { demoEvents } from '../examples/demo/schema/events.js';
import { useTestDatabase } from './helpers/database.js';
import { useTestQueue } from './helpers/queue-backend.js';
import { logRows } from './helpers/refresh-log.js';
import { waitUntil } from './helpers/wait.js';

/** The view the new deploy adds: workers still on the old catalog have never heard of it. */
const NEW_VIEW = 'mv_kpi_dashboard';
/** Short, so the test does not wait the production 30 s between offers. */
const RETRY_DELAY_MS = 500;

/** The catalog of the deploy before `NEW_VIEW` was added. */
const oldCatalog = createCatalog({
  events: demoEvents,
  views: demoViewDefinitions.filter((definition) => viewNameOf(definition) !== NEW_VIEW),
});

/** A logger that keeps what it writes, to read the old worker's warnings. */
function recordingLogger(): { logger: Logger; lines: { level: number; msg: string; view?: string }[] } {
  const lines: { level: number; msg: string; view?: string }[] = [];
  return { lines, logger: pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) }) };
}

async function jobsOf(queue: Queue, name: string, view: string): Promise<Job[]> {
  const jobs = await queue.getJobs(['waiting', 'delayed', 'active', 'prioritized', 'completed', 'failed']);
  return jobs.filter((job) => job?.name === name && job.data?.view === view);
}

describe('rolling deploys lose no refresh request', () => {
  const db = useTestDatabase({ max: 12 });
  const backends = useTestQueue(db);

  it('an old worker hands a refresh of a view it does not know back to the queue; a new worker runs it', async () => {
    expect(oldCatalog.has(NEW_VIEW)).toBe(false);
    const backend = backends.isolated('refresh');
    const queue = createRefreshQueue(backend);
    const recorded = recordingLogger();
    const oldWorker = createWorker({
      backend,
      sql: db.sql,
      catalog: oldCatalog,
      workerId: 'old-deploy',
      logger: recorded.logger,
      unknownViewRetryDelayMs: RETRY_DELAY_MS,
    });
    await oldWorker.ready();
    const producer = createProducer({ catalog: demoCatalog, backend, sql: db.sql });

    const handle = await producer.refresh(NEW_VIEW);
    const [job] = await waitUntil('the refresh job to be stored', async () => {
      const jobs = await jobsOf(queue, JOB_NAMES.refresh, NEW_VIEW);
      return jobs.length > 0 && jobs;
    });
    // Enqueued without delay, so a delayed job is one the old worker took and handed back;
    // waiting for two hand-backs shows it keeps coming back, and is warned about once.
    await waitUntil('the old worker to hand the job back twice', async () => {
      const handBacks = recorded.lines.filter((line) => line.view === NEW_VIEW && /handed back/.test(line.msg));
      return handBacks.length >= 2 && (await queue.getJobState(job!.id!)) === 'delayed';
    });
    const handedBack = (await queue.getJob(job!.id!))!;
    expect(handedBack.attemptsMade).toBe(0);
    expect(handedBack.failedReason).toBeFalsy();
    expect(await queue.getJobCountByTypes('failed')).toBe(0);
    expect(await logRows(db.sql, NEW_VIEW)).toEqual([]);
    const warnings = recorded.lines.filter((line) => line.level === 40 && line.view === NEW_VIEW);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toMatch(/mv_kpi_dashboard is not in this worker's catalog/);

    // The new deploy's worker arrives while the old one still runs.
    const newWorker = createWorker({ backend, sql: db.sql, catalog: demoCatalog, workerId: 'new-deploy' });
    await newWorker.ready();
    const { [NEW_VIEW]: fresh } = await handle.waitUntilFresh({ timeoutMs: 30_000 });
    expect(fresh!.status).toBe('success');
    const rows = await logRows(db.sql, NEW_VIEW);
    expect(rows.filter((row) => row.status === 'failed')).toEqual([]);
    const refreshed = rows.find((row) => row.job_id === job!.id && row.status === 'success')!;
    expect(refreshed).toMatchObject({ worker_id: 'new-deploy', reason: 'manual', attempt: 1 });
    expect(refreshed.started_at.getTime()).toBeGreaterThanOrEqual(handle.requestedAt.getTime());
    await waitUntil('the job to complete', async () => (await queue.getJobState(job!.id!)) === 'completed');
    expect(await queue.getJobCountByTypes('failed')).toBe(0);

    await producer.close();
    await Promise.all([oldWorker.close(), newWorker.close()]);
    await queue.close();
  });

  it('an old worker hands a schedule tick of a view it does not know back; a new worker schedules the refresh', async () => {
    const backend = backends.isolated('tick');
    const queue = createRefreshQueue(backend);
    const oldWorker = createWorker({
      backend,
      sql: db.sql,
      catalog: oldCatalog,
      workerId: 'old-deploy',
      unknownViewRetryDelayMs: RETRY_DELAY_MS,
    });
    await oldWorker.ready();

    const tickedAt = new Date();
    // What the new deploy's scheduler adds when the view's schedule fires.
    const tick = await queue.add(JOB_NAMES.tick, { view: NEW_VIEW }, { attempts: 3 });
    await waitUntil('the old worker to hand the tick back', async () => {
      const current = await queue.getJob(tick.id!);
      return (await current?.getState()) === 'delayed' && current!.processedOn !== undefined;
    });
    expect((await queue.getJob(tick.id!))!.attemptsMade).toBe(0);
    expect(await queue.getJobCountByTypes('failed')).toBe(0);

    const newWorker = createWorker({ backend, sql: db.sql, catalog: demoCatalog, workerId: 'new-deploy' });
    await newWorker.ready();
    const scheduled = await waitUntil(
      'the scheduled refresh',
      async () =>
        (await logRows(db.sql, NEW_VIEW)).find(
          (row) => row.reason === 'schedule' && row.status === 'success' && row.started_at >= tickedAt,
        ),
      { timeoutMs: 30_000 },
    );
    expect(scheduled.worker_id).toBe('new-deploy');
    expect(await queue.getJobState(tick.id!)).toBe('completed');
    expect(await queue.getJobCountByTypes('failed')).toBe(0);

    await Promise.all([oldWorker.close(), newWorker.close()]);
    await queue.close();
  });

  it('refuses a hand-back delay short enough to pass the job around in a busy loop', () => {
    expect(() =>
      createWorker({ backend: backends.backend(), sql: db.sql, catalog: oldCatalog, unknownViewRetryDelayMs: 10 }),
    ).toThrow(/unknownViewRetryDelayMs must be >= 100 \(got 10\)/);
  });

  it('still fails a malformed job at once, without retries', async () => {
    const backend = backends.isolated('malformed');
    const queue = createRefreshQueue(backend);
    const worker = createWorker({ backend, sql: db.sql, catalog: oldCatalog, unknownViewRetryDelayMs: RETRY_DELAY_MS });
    await worker.ready();

    const bad = await queue.add(JOB_NAMES.refresh, { view: NEW_VIEW, reason: 'whim' }, { attempts: 5 });
    const failed = await waitUntil('the malformed job to fail', async () => {
      const current = await queue.getJob(bad.id!);
      // The state can be read before BullMQ has stored the failure's reason.
      return (await current?.getState()) === 'failed' && current?.failedReason !== undefined && current;
    });
    // One attempt at most (BullMQ's PostgreSQL backend does not count an unrecoverable one).
    expect(failed.attemptsMade).toBeLessThanOrEqual(1);
    expect(failed.failedReason).toMatch(/invalid refresh job .*reason/);

    await worker.close();
    await queue.close();
  });
});
