import { setTimeout as delay } from 'node:timers/promises';
import type { Job, JobSchedulerJson, Queue } from 'bullmq';
import type { Catalog, CatalogView } from '../catalog/catalog.js';
import type { QueueBackend } from '../queue/queue-backend.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { JOB_NAMES, scheduleId, viewOfScheduleId } from '../queue/job-contract.js';

/** Options for {@link createScheduler}. */
export interface SchedulerOptions {
  /** The refresh queue (the scheduler adds job schedulers to it). */
  queue: Queue;
  /** The queue's backend: syncs take its fleet-wide lock. */
  backend: QueueBackend;
  catalog: Catalog;
  /**
   * Time zone of cron schedules whose catalog entry leaves it open (`MVFLEET_TZ`).
   * @defaultValue 'UTC'
   */
  timeZone?: string;
  /** @defaultValue a silent logger */
  logger?: Logger;
  /**
   * How often `run()` re-checks the schedulers (heals a lost next tick).
   * @defaultValue 60_000
   */
  resyncIntervalMs?: number;
}

export interface SyncResult {
  created: string[];
  updated: string[];
  removed: string[];
  /** Schedulers whose pending next tick was missing or duplicated and was repaired. */
  repaired: string[];
}

export interface Scheduler extends AsyncDisposable {
  /** Makes Redis hold exactly the catalog's schedules: one job scheduler per scheduled view. */
  sync(): Promise<SyncResult>;
  /** After a first `sync()`, keeps syncing every `resyncIntervalMs` until `close()`. */
  run(): Promise<void>;
  /** Next scheduled tick per view. */
  nextRuns(): Promise<Map<string, Date>>;
  close(): Promise<void>;
}

interface DesiredSchedule {
  every?: number;
  pattern?: string;
  tz?: string;
}

function desiredSchedule(view: CatalogView, timeZone: string): DesiredSchedule | null {
  const schedule = view.schedule;
  if (!schedule) return null;
  if (schedule.kind === 'every') return { every: schedule.everyMs };
  return { pattern: schedule.pattern, tz: schedule.timeZone ?? timeZone };
}

function sameSchedule(existing: JobSchedulerJson, desired: DesiredSchedule): boolean {
  return (
    (existing.every === undefined ? undefined : Number(existing.every)) === desired.every &&
    (existing.pattern ?? undefined) === desired.pattern &&
    (existing.tz ?? undefined) === desired.tz
  );
}

const TICK_OPTIONS = {
  attempts: 3,
  backoff: { type: 'fixed', delay: 5_000 },
  removeOnComplete: { count: 100 },
  removeOnFail: { count: 100 },
};

/**
 * Keeps BullMQ job schedulers in line with the catalog. Several scheduler processes may
 * start at once (a rolling deploy): BullMQ has had races when `every` schedulers are
 * upserted concurrently (duplicate or missing next jobs), so syncs are serialised with a
 * Redis lock, a scheduler is upserted only when its settings differ, and each sync checks
 * that every scheduler has exactly one pending next tick, repairing it otherwise.
 */
export function createScheduler(options: SchedulerOptions): Scheduler {
  const { queue, backend, catalog } = options;
  const timeZone = options.timeZone ?? 'UTC';
  const logger = options.logger ?? silentLogger();
  const resyncIntervalMs = options.resyncIntervalMs ?? 60_000;
  const stop = new AbortController();
  const withSyncLock = <T>(work: () => Promise<T>) => backend.withLock(`scheduler-sync:${queue.name}`, work);

  /** Ticks of a scheduler that have not started, and whether one is running right now. */
  async function ticksOf(id: string): Promise<{ pending: Job[]; running: boolean }> {
    const mine = (jobs: Job[]) => jobs.filter((job) => job?.repeatJobKey === id);
    return {
      // A tick waiting to retry after a failure, or handed back by a worker that did not know
      // its view (a rolling deploy), already ran once: it is not the scheduler's next tick.
      pending: mine(await queue.getJobs(['delayed', 'waiting', 'prioritized'])).filter(
        (job) => job.attemptsMade === 0 && !job.processedOn,
      ),
      running: mine(await queue.getJobs(['active'])).length > 0,
    };
  }

  async function upsert(view: CatalogView, desired: DesiredSchedule) {
    await queue.upsertJobScheduler(scheduleId(view.name), desired, {
      name: JOB_NAMES.tick,
      data: { view: view.name },
      opts: TICK_OPTIONS,
    });
  }

  async function sync(): Promise<SyncResult> {
    return withSyncLock(async () => {
      const result: SyncResult = { created: [], updated: [], removed: [], repaired: [] };
      const existing = new Map((await queue.getJobSchedulers(0, -1)).map((s) => [s.key, s] as const));
      for (const view of catalog.views) {
        const desired = desiredSchedule(view, timeZone);
        if (!desired) continue;
        const id = scheduleId(view.name);
        const current = existing.get(id);
        if (current && sameSchedule(current, desired)) {
          const { pending, running } = await ticksOf(id);
          // Healthy: one next tick waiting. A running tick has already created its successor
          // (BullMQ adds it when the tick becomes active), so do not "repair" around it.
          if (pending.length === 1 || (pending.length === 0 && running)) continue;
          // No next tick (it would never fire again) or several (it would fire twice): rebuild it.
          for (const job of pending) await job.remove().catch(() => {});
          await upsert(view, desired);
          result.repaired.push(view.name);
          continue;
        }
        await upsert(view, desired);
        (current ? result.updated : result.created).push(view.name);
      }
      for (const [id] of existing) {
        const view = viewOfScheduleId(id);
        if (view !== null && !(catalog.has(view) && catalog.get(view).schedule)) {
          await queue.removeJobScheduler(id);
          result.removed.push(view);
        }
      }
      const changes = Object.entries(result).filter(([, views]) => views.length > 0);
      if (changes.length > 0) logger.info(Object.fromEntries(changes), 'schedules synced');
      return result;
    });
  }

  const nextRuns = () => nextScheduledRuns(queue);

  /** Re-syncs every `resyncIntervalMs`; the caller has synced once at start already. */
  async function run(): Promise<void> {
    for (;;) {
      await delay(resyncIntervalMs, undefined, { signal: stop.signal }).catch(() => {});
      if (stop.signal.aborted) return;
      try {
        await sync();
      } catch (error) {
        logger.warn({ err: error }, 'schedule sync failed; retrying');
      }
    }
  }

  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    stop.abort();
  };
  return { sync, run, nextRuns, close, [Symbol.asyncDispose]: close };
}

/** Next scheduled tick per view, read from the queue's job schedulers. */
export async function nextScheduledRuns(queue: Queue): Promise<Map<string, Date>> {
  const runs = new Map<string, Date>();
  for (const scheduler of await queue.getJobSchedulers(0, -1)) {
    const view = viewOfScheduleId(scheduler.key);
    if (view && scheduler.next) runs.set(view, new Date(Number(scheduler.next)));
  }
  return runs;
}
