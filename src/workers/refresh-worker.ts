import { hostname } from 'node:os';
import { DelayedError, MetricsTime, UnrecoverableError, type Job } from 'bullmq';
import type { Catalog } from '../catalog/catalog.js';
import type { Sql } from '../core/db.js';
import { ConfigError, oneLine } from '../core/errors.js';
import { TimeoutError, withTimeout } from '../core/with-timeout.js';
import type { QueueBackend } from '../queue/queue-backend.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { JOB_NAMES, REFRESH_QUEUE, parseRefreshJob, tickJobSchema } from '../queue/job-contract.js';
import { createRefreshQueue, enqueueRefresh } from '../queue/refresh-queue.js';
import { requestRefresh } from '../queue/request-refresh.js';
import { dropDrainedRequests, overdueRequests } from '../store/pending-requests.js';
import { createRecordedRequestsPoll } from './recorded-requests-poll.js';
import { directDependants } from './cascade.js';
import { handleScheduleTick } from './schedule-tick.js';
import { PermanentRefreshError, RefreshFailedError, failureOrigin } from './refresh-errors.js';
import { handBack, retryWhenDatabaseAnswers, waitForDatabase } from './environment-retry.js';
import { createUnknownViewHandback } from './unknown-view-handback.js';
import { viewsWithWaitingKeys } from '../store/dirty-keys.js';
import { closeOrphans, pruneLog } from './refresh-log-store.js';
import { createRefreshExecutor, type RefreshExecutor, type RefreshOutcome } from './refresh-executor.js';

/** Options for {@link createWorker}. */
export interface RefreshWorkerOptions {
  /** Where the queue lives (Redis or PostgreSQL); see core/queue-backend.ts. */
  backend: QueueBackend;
  /** Pool for refreshes and the log; needs two connections per concurrent refresh. */
  sql: Sql;
  catalog: Catalog;
  /**
   * Refreshes this process runs at once (of different views: one view is never refreshed twice at once).
   * @defaultValue 2
   */
  concurrency?: number;
  /** @defaultValue `<hostname>:<pid>` */
  workerId?: string;
  /** @defaultValue a silent logger */
  logger?: Logger;
  /**
   * On close, how long a running refresh may go on before it is cancelled in PostgreSQL.
   * @defaultValue 30_000
   */
  shutdownGraceMs?: number;
  /**
   * Delay before retrying a job whose view another refresh holds (not counted as an attempt).
   * @defaultValue 1_000
   */
  busyRetryDelayMs?: number;
  /**
   * Delay before a job for a view this worker's catalog does not know is offered again (a
   * rolling deploy: a newer producer knows the view). The job goes back to the queue for a
   * worker that knows the view; it is not failed and the attempt is not counted.
   * @defaultValue 30_000
   */
  unknownViewRetryDelayMs?: number;
  /**
   * Source of randomness for schedule jitter (tests make it deterministic).
   * @defaultValue Math.random
   */
  random?: () => number;
  /**
   * How often `running` log rows of dead workers are closed as failed (and old rows pruned).
   * @defaultValue 30_000
   */
  orphanSweepIntervalMs?: number;
  /**
   * Dirty keys still waiting this long after they were recorded get a refresh requested by
   * the rescue: their job was lost (Redis restarted empty or failed over, a job failed for
   * good, a producer could not enqueue after recording).
   * @defaultValue 10_000
   */
  waitingKeysRescueMs?: number;
  /**
   * Whole-view requests still pending this long after they were due get a refresh requested
   * by the rescue, for the same reasons. A request whose job is merely late (a long refresh
   * ahead of it) is asked for again harmlessly: the new job joins the waiting one.
   * @defaultValue 5_000
   */
  pendingRescueAfterMs?: number;
  /**
   * How often the worker looks for requests whose job was lost (pending requests, waiting keys).
   * @defaultValue 2_000
   */
  rescueIntervalMs?: number;
  /**
   * How often the worker looks for requests recorded without a job (by capture triggers, by
   * an `emit` in the app's transaction) and wakes a worker for them.
   * @defaultValue 250
   */
  requestPollMs?: number;
  /**
   * Refresh-log rows older than this many days are deleted by the sweep, so the log (and the
   * dashboard's scrape of it) does not grow without bound.
   * @defaultValue 90
   */
  logRetentionDays?: number;
  /**
   * BullMQ job lock: a worker that stops renewing it (killed, or crashed with PostgreSQL) loses
   * the job after this long. Until then the view waits: every request of it coalesces into the
   * dead worker's job. Renewed every half of it while the refresh runs.
   * @defaultValue 6_000
   */
  lockDurationMs?: number;
  /**
   * BullMQ stalled-job check interval: a lost job is handed to another worker within
   * `lockDurationMs + stalledIntervalMs`, so a view refreshes again within 10 s of its
   * worker's death.
   * @defaultValue 3_000
   */
  stalledIntervalMs?: number;
  /**
   * How many times a job may be lost by a dying worker (its lock expired) and handed to another
   * before BullMQ fails it for good. Stalls are not the view's fault and do not spend its
   * retry attempts; a rolling deploy or a crash loop can stall one job several times.
   * @defaultValue 10
   */
  maxStalledCount?: number;
}

export const workerDefaults = {
  concurrency: 2,
  shutdownGraceMs: 30_000,
  busyRetryDelayMs: 1_000,
  unknownViewRetryDelayMs: 30_000,
  orphanSweepIntervalMs: 30_000,
  waitingKeysRescueMs: 10_000,
  pendingRescueAfterMs: 5_000,
  rescueIntervalMs: 2_000,
  requestPollMs: 250,
  logRetentionDays: 90,
  lockDurationMs: 6_000,
  stalledIntervalMs: 3_000,
  maxStalledCount: 10,
} satisfies Partial<RefreshWorkerOptions>;

export interface RefreshWorker extends AsyncDisposable {
  readonly id: string;
  readonly executor: RefreshExecutor;
  /** Resolves once the worker is connected and taking jobs. */
  ready(): Promise<void>;
  /**
   * Stops taking jobs, lets running refreshes finish for `shutdownGraceMs`, then cancels
   * them (their jobs go back to the queue without spending an attempt). Idempotent.
   */
  close(): Promise<void>;
}

/** Connections a worker needs: each refresh holds one for its transaction and uses another for the log. */
export const connectionsNeeded = (concurrency: number) => 2 * concurrency + 1;

function validate(options: RefreshWorkerOptions): void {
  const problems: string[] = [];
  const { concurrency, shutdownGraceMs, busyRetryDelayMs, orphanSweepIntervalMs, lockDurationMs, stalledIntervalMs } = options;
  if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency >= 1)) {
    problems.push(`concurrency must be an integer >= 1 (got ${concurrency})`);
  }
  const poolSize = options.sql.options.max;
  const needed = connectionsNeeded(concurrency ?? workerDefaults.concurrency);
  // Fewer connections deadlock: every refresh would hold one and wait forever for another.
  if (poolSize < needed) {
    problems.push(`sql pool has ${poolSize} connections but concurrency ${concurrency ?? workerDefaults.concurrency} needs ${needed}`);
  }
  if (shutdownGraceMs !== undefined && !(shutdownGraceMs >= 0)) problems.push(`shutdownGraceMs must be >= 0 (got ${shutdownGraceMs})`);
  if (busyRetryDelayMs !== undefined && !(busyRetryDelayMs >= 0)) problems.push(`busyRetryDelayMs must be >= 0 (got ${busyRetryDelayMs})`);
  // Shorter would make workers that all lack the view pass the job around in a busy loop.
  if (options.unknownViewRetryDelayMs !== undefined && !(options.unknownViewRetryDelayMs >= 100)) {
    problems.push(`unknownViewRetryDelayMs must be >= 100 (got ${options.unknownViewRetryDelayMs})`);
  }
  if (orphanSweepIntervalMs !== undefined && !(orphanSweepIntervalMs >= 1_000)) {
    problems.push(`orphanSweepIntervalMs must be >= 1000 (got ${orphanSweepIntervalMs})`);
  }
  if (options.waitingKeysRescueMs !== undefined && !(options.waitingKeysRescueMs >= 1_000)) {
    problems.push(`waitingKeysRescueMs must be >= 1000 (got ${options.waitingKeysRescueMs})`);
  }
  if (options.pendingRescueAfterMs !== undefined && !(options.pendingRescueAfterMs >= 100)) {
    problems.push(`pendingRescueAfterMs must be >= 100 (got ${options.pendingRescueAfterMs})`);
  }
  if (options.requestPollMs !== undefined && !(options.requestPollMs >= 10)) {
    problems.push(`requestPollMs must be >= 10 (got ${options.requestPollMs})`);
  }
  if (options.rescueIntervalMs !== undefined && !(options.rescueIntervalMs >= 100)) {
    problems.push(`rescueIntervalMs must be >= 100 (got ${options.rescueIntervalMs})`);
  }
  if (options.logRetentionDays !== undefined && !(Number.isInteger(options.logRetentionDays) && options.logRetentionDays >= 1)) {
    problems.push(`logRetentionDays must be an integer >= 1 (got ${options.logRetentionDays})`);
  }
  if (lockDurationMs !== undefined && !(lockDurationMs >= 100)) problems.push(`lockDurationMs must be >= 100 (got ${lockDurationMs})`);
  if (stalledIntervalMs !== undefined && !(stalledIntervalMs >= 100)) {
    problems.push(`stalledIntervalMs must be >= 100 (got ${stalledIntervalMs})`);
  }
  if (options.maxStalledCount !== undefined && !(Number.isInteger(options.maxStalledCount) && options.maxStalledCount >= 0)) {
    problems.push(`maxStalledCount must be an integer >= 0 (got ${options.maxStalledCount})`);
  }
  if (problems.length > 0) throw new ConfigError(`createWorker: ${problems.join('; ')}`);
}

/** Creates a BullMQ worker that runs refresh jobs through the executor. */
export function createWorker(options: RefreshWorkerOptions): RefreshWorker {
  validate(options);
  const settings = { ...workerDefaults, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as
    typeof workerDefaults & RefreshWorkerOptions;
  const { sql, catalog } = settings;
  const id = settings.workerId ?? `${hostname()}:${process.pid}`;
  const logger = (settings.logger ?? silentLogger()).child({ workerId: id });
  const executor = createRefreshExecutor({ sql, catalog, workerId: id, logger });
  const cascadeQueue = createRefreshQueue(settings.backend);
  const handBackUnknownView = createUnknownViewHandback({ logger, delayMs: settings.unknownViewRetryDelayMs });
  let closing = false;

  /**
   * A refresh that failed for good on an error of the view's own: the requests its last attempt
   * drained end in that logged failure. Requests it could not see stay pending, and the rescue
   * asks for them again. (A job lost to stalls is not such a failure.)
   */
  async function endDrainedRequests(view: string, error: RefreshFailedError): Promise<void> {
    try {
      await dropDrainedRequests(sql, catalog.store, error.drainedRequestIds);
    } catch (dropError) {
      logger.warn({ err: dropError, view }, 'could not end the requests of a failed refresh; they will be retried');
    }
  }

  async function processRefresh(job: Job, token?: string): Promise<RefreshOutcome> {
    let data;
    try {
      data = parseRefreshJob(job.data, job.id);
    } catch (error) {
      throw new UnrecoverableError(oneLine(error));
    }
    if (!catalog.has(data.view)) return handBackUnknownView(job, data.view, token);
    // The views built on this one are asked for in the refresh's own transaction (durable),
    // then woken with jobs after it.
    const dependants = data.cascade ? await directDependants(sql, catalog, data.view) : [];
    const cascade = dependants.map((dependant) => ({
      view: dependant,
      reason: 'cascade' as const,
      triggerDetail: data.view,
      // Upstream refreshes in a burst (targeted ones come every few hundred ms) share one.
      dueInMs: catalog.has(dependant) ? catalog.get(dependant).coalesceWindowMs : 0,
    }));
    let outcome: RefreshOutcome;
    try {
      outcome = await executor.refresh({
        view: data.view,
        reason: data.reason,
        triggerDetail: data.triggerDetail,
        requestedAt: new Date(data.requestedAt),
        jobId: job.id ?? null,
        attempt: job.attemptsMade + 1,
        mode: data.mode,
        scope: data.scope,
        followUp: cascade,
      });
    } catch (error) {
      const lastAttempt = error instanceof PermanentRefreshError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (lastAttempt && error instanceof RefreshFailedError && error.origin === 'view') {
        await endDrainedRequests(data.view, error);
      }
      if (error instanceof PermanentRefreshError) throw new UnrecoverableError(error.message);
      if (closing && error instanceof RefreshFailedError && error.sqlState === '57014') {
        // Cancelled by our own shutdown: hand the job back without spending an attempt.
        return handBack(job, token, Date.now(), logger);
      }
      if (error instanceof RefreshFailedError && error.origin === 'environment') {
        return retryWhenDatabaseAnswers({ job, token, error, sql, executor, logger, closing: () => closing });
      }
      throw error;
    }
    if (outcome.status === 'busy') {
      await job.moveToDelayed(Date.now() + settings.busyRetryDelayMs, token);
      throw new DelayedError();
    }
    // A re-run (stalled or retried job) finds its own earlier refresh and skips; the cascade
    // after that refresh may never have been enqueued, so a re-run cascades too.
    const rerun = job.attemptsStarted > 1 || job.attemptsMade > 0;
    if (outcome.status === 'success' || (outcome.status === 'skipped' && rerun)) {
      for (const request of cascade) {
        const wakeUp = { view: request.view, reason: request.reason, triggerDetail: request.triggerDetail, requestedAt: new Date().toISOString(), delayMs: request.dueInMs };
        // After a success the requests are recorded already; a skipped re-run records them now.
        if (outcome.status === 'success') await enqueueRefresh(cascadeQueue, catalog, wakeUp);
        else await requestRefresh({ sql, queue: cascadeQueue, catalog }, wakeUp);
      }
    }
    return outcome;
  }

  /**
   * Runs a job; a failure the environment caused anywhere in it (the cascade lookup before the
   * refresh, recording a tick's request, enqueueing a cascade: not only the refresh itself) is
   * not the view's: the job waits for PostgreSQL to answer and runs again, attempt not spent.
   */
  async function processJob(job: Job, token?: string) {
    try {
      return await processOne(job, token);
    } catch (error) {
      const handled = error instanceof DelayedError || error instanceof UnrecoverableError || error instanceof RefreshFailedError;
      if (handled || failureOrigin(error) !== 'environment') throw error;
      logger.warn({ err: error, jobId: job.id, view: job.data?.view }, 'job interrupted by an unreachable service: running it again once PostgreSQL answers');
      await waitForDatabase(sql, () => closing);
      return handBack(job, token, Date.now(), logger);
    }
  }

  async function processOne(job: Job, token?: string) {
    if (job.name === JOB_NAMES.tick) {
      const tick = tickJobSchema.safeParse(job.data);
      if (!tick.success) {
        const problems = tick.error.issues.map((issue) => `${issue.path.join('.') || 'payload'} ${issue.message}`);
        throw new UnrecoverableError(`invalid schedule tick ${job.id}: ${problems.join('; ')}`);
      }
      // A view this catalog lacks may be one a newer deploy added: hand the tick back rather
      // than lose the new view's scheduled refresh.
      if (!catalog.has(tick.data.view)) return handBackUnknownView(job, tick.data.view, token);
      return handleScheduleTick(job, { sql, queue: cascadeQueue, catalog, random: settings.random });
    }
    return processRefresh(job, token);
  }

  const worker = settings.backend.worker(REFRESH_QUEUE, processJob, {
    concurrency: settings.concurrency,
    name: id,
    autorun: false,
    lockDuration: settings.lockDurationMs,
    stalledInterval: settings.stalledIntervalMs,
    maxStalledCount: settings.maxStalledCount,
    metrics: { maxDataPoints: MetricsTime.ONE_WEEK },
    settings: {
      backoffStrategy: (attemptsMade, _type, _error, job) => {
        const view = job && catalog.has(String(job.data?.view)) ? catalog.get(String(job.data.view)) : undefined;
        const delays = view?.retryBackoffMs ?? [60_000];
        return delays[Math.min(attemptsMade, delays.length) - 1] ?? delays.at(-1) ?? 60_000;
      },
    },
  });
  worker.on('error', (error) => logger.error({ err: error }, 'worker error'));
  worker.on('failed', (job, error) => {
    if (!job || error instanceof DelayedError || error.name === 'DelayedError') return;
    const attempts = job.opts.attempts ?? 1;
    const final = error instanceof UnrecoverableError || job.attemptsMade >= attempts;
    logger.warn(
      { jobId: job.id, view: job.data?.view, attempt: job.attemptsMade, of: attempts, final },
      `refresh job failed (attempt ${job.attemptsMade} of ${attempts})${final ? '' : ', will retry'}: ${error.message}`,
    );
  });
  worker.on('completed', (job, outcome: RefreshOutcome | Awaited<ReturnType<typeof handleScheduleTick>>) => {
    if (job.name === JOB_NAMES.tick) {
      logger.info({ jobId: job.id, view: outcome.view, delayMs: 'delayMs' in outcome ? outcome.delayMs : null }, 'schedule tick');
      return;
    }
    if (!('status' in outcome)) return;
    logger.info(
      { jobId: job.id, view: outcome.view, status: outcome.status, attempt: job.attemptsMade, of: job.opts.attempts ?? 1 },
      `refresh job ${outcome.status}`,
    );
  });

  const sweep = async () => {
    try {
      const closed = await closeOrphans(sql, catalog.store);
      if (closed > 0) logger.warn({ closed }, 'closed refresh-log rows of lost workers');
      const pruned = await pruneLog(sql, catalog.store, settings.logRetentionDays);
      if (pruned > 0) logger.info({ pruned, olderThanDays: settings.logRetentionDays }, 'pruned refresh-log rows');
    } catch (error) {
      logger.warn({ err: error }, 'orphan sweep failed');
    }
  };
  const sweeper = setInterval(sweep, settings.orphanSweepIntervalMs);
  sweeper.unref();
  void sweep();

  /**
   * Requests live in PostgreSQL; their jobs only wake workers. Requests still there well after
   * they were due lost their job, and are asked for again. A new job coalesces with any job of
   * the view still in the queue, so a healthy fleet gets no extra refresh.
   */
  let rescuing = false;
  const rescue = async () => {
    if (rescuing || closing) return;
    rescuing = true;
    try {
      const requestedAt = new Date().toISOString();
      for (const overdue of await overdueRequests(sql, catalog.store, settings.pendingRescueAfterMs)) {
        if (!catalog.has(overdue.view)) continue;
        logger.info({ view: overdue.view, reason: overdue.reason, since: overdue.requestedAt }, 'pending refresh request without a job: waking a worker');
        await enqueueRefresh(cascadeQueue, catalog, { view: overdue.view, reason: overdue.reason, triggerDetail: overdue.triggerDetail, requestedAt });
      }
      for (const view of await viewsWithWaitingKeys(sql, catalog.store, settings.waitingKeysRescueMs)) {
        if (!catalog.has(view) || !catalog.get(view).keyed) continue;
        logger.info({ view }, 'dirty keys waiting without a refresh: waking a worker');
        await enqueueRefresh(cascadeQueue, catalog, { view, reason: 'event', triggerDetail: 'waiting dirty keys', requestedAt, scope: 'keys' });
      }
    } catch (error) {
      logger.warn({ err: error }, 'rescue of lost requests failed');
    } finally {
      rescuing = false;
    }
  };
  const rescuer = setInterval(rescue, settings.rescueIntervalMs);
  rescuer.unref();

  const recorded = createRecordedRequestsPoll({ sql, catalog, queue: cascadeQueue });
  let polling = false;
  let pollFailing = false;
  const pollRecorded = async () => {
    if (polling || closing) return;
    polling = true;
    try {
      await recorded.poll();
      pollFailing = false;
    } catch (error) {
      // Once per outage, not four times a second.
      if (!pollFailing) logger.warn({ err: error }, 'reading recorded requests failed; trying again');
      pollFailing = true;
    } finally {
      polling = false;
    }
  };
  const requestPoller = setInterval(pollRecorded, settings.requestPollMs);
  requestPoller.unref();
  void worker.run().catch((error) => logger.error({ err: error }, 'worker stopped'));

  let closed: Promise<void> | undefined;
  async function close(): Promise<void> {
    closing = true;
    clearInterval(sweeper);
    clearInterval(rescuer);
    clearInterval(requestPoller);
    const stopped = worker.close();
    const timedOut = (error: unknown) => {
      if (error instanceof TimeoutError) return true;
      throw error;
    };
    const graceOver = await withTimeout(stopped, settings.shutdownGraceMs, 'shutdown grace period').then(() => false, timedOut);
    if (graceOver) {
      const cancelled = await executor.cancelAll('worker shutting down').catch(() => 0);
      logger.warn({ cancelled }, 'shutdown grace period over: cancelled running refreshes');
      // A cancelled refresh ends at once; one stuck elsewhere (network, pool) must not hang the exit.
      const gaveUp = await withTimeout(stopped, 10_000, 'stopping after cancellation').then(() => false, timedOut);
      if (gaveUp) {
        logger.error('refreshes did not stop 10 s after cancellation; closing the worker anyway');
        await worker.close(true);
      }
    }
    await cascadeQueue.close();
  }

  return {
    id,
    executor,
    ready: () => worker.waitUntilReady().then(() => undefined),
    close: () => (closed ??= close()),
    [Symbol.asyncDispose]: () => (closed ??= close()),
  };
}
