import type { Queue } from 'bullmq';
import { sql, type SQL } from 'drizzle-orm';
import type { Catalog } from '../catalog/catalog.js';
import type { Queryable } from '../core/db.js';
import { ConfigError, ConnectionError, MvfleetError, UsageError, oneLine, sqlStateOf } from '../core/errors.js';
import { eventKey } from '../catalog/event-keys.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { createRedisQueueBackend, type QueueBackend } from '../queue/queue-backend.js';
import { withTimeout } from '../core/with-timeout.js';
import type { DirtyKey } from '../store/dirty-keys.js';
import { recordRequests, recordRequestsInTransaction, type RunInTransaction } from '../store/pending-requests.js';
import { JOB_NAMES, parseRefreshJob, refreshJobOptions, type RefreshJobData } from '../queue/job-contract.js';
import { createRefreshQueue } from '../queue/refresh-queue.js';
import { waitForRefresh, type RefreshWaitResult } from './wait-for-refresh.js';

/** Options for {@link createProducer}. */
export interface ProducerOptions {
  catalog: Catalog;
  /** Redis URL of the fleet's queue; or pass `backend`. */
  redisUrl?: string;
  /** Key prefix with `redisUrl`. @defaultValue '{mvfleet}' */
  prefix?: string;
  /** The fleet's queue backend (core/queue-backend.ts; not closed by the fleet); or pass `redisUrl`. */
  backend?: QueueBackend;
  /**
   * PostgreSQL access: events record the keys they touch in keyed views here, so the next
   * refresh recomputes only those; `waitUntilFresh()` reads the refresh log. Without it,
   * events refresh keyed views whole.
   */
  sql?: Queryable;
  /**
   * An `emit` or `refresh` that cannot reach Redis rejects after this long instead of hanging.
   * @defaultValue 5_000
   */
  timeoutMs?: number;
  /** @defaultValue a silent logger */
  logger?: Logger;
}

/** A request accepted by the queue. */
export interface RefreshHandle {
  /** When the request was made (producer clock): refreshes that start later satisfy it. */
  requestedAt: Date;
  /** The views it will refresh (cascaded views follow their upstream). */
  views: string[];
  /**
   * Resolves when every view has had a successful refresh that started after the request
   * (after this call, for an `emit` in the app's transaction).
   */
  waitUntilFresh(options?: { timeoutMs?: number; signal?: AbortSignal }): Promise<Record<string, RefreshWaitResult>>;
}

/**
 * The app's open transaction, for an `emit` that commits or rolls back with the app's writes:
 * a postgres.js transaction (`sql.begin(async (tx) => …)`) or a Drizzle one
 * (`db.transaction(async (tx) => …)`).
 */
export type AppTransaction = Queryable | { execute(query: SQL): PromiseLike<unknown> };

export interface EmitOptions {
  /**
   * Record the event's requests in this transaction of the app instead of committing them
   * now. They commit or roll back with the app's writes; the workers find them once the
   * transaction commits (within their `requestPollMs`), so nothing is enqueued here. Call
   * `waitUntilFresh()` after the commit.
   */
  transaction?: AppTransaction;
}

export interface Producer extends AsyncDisposable {
  /** Validates the event and its payload against the catalog, then enqueues the views it maps to. */
  emit(event: string, payload?: Record<string, unknown>, options?: EmitOptions): Promise<RefreshHandle>;
  /** Enqueues a refresh of one view (reason `manual` unless given). */
  refresh(
    view: string,
    options?: { reason?: 'manual' | 'api'; detail?: string; mode?: 'auto' | 'plain' | 'concurrent' },
  ): Promise<RefreshHandle>;
  close(): Promise<void>;
}

/** One statement with one parameter on the app's transaction, whichever client it comes from. */
function transactionRunner(transaction: AppTransaction): RunInTransaction {
  if (typeof transaction === 'function' && 'unsafe' in transaction) {
    return (text, parameter) => transaction.unsafe(text, [parameter]);
  }
  if (typeof transaction === 'object' && transaction !== null && typeof transaction.execute === 'function') {
    return async (text, parameter) => {
      const [before, after] = text.split('$1') as [string, string];
      return transaction.execute(sql`${sql.raw(before)}${parameter}${sql.raw(after)}`);
    };
  }
  throw new UsageError('emit: `transaction` must be a postgres.js or a Drizzle transaction');
}

/** Creates the producer SDK that app code uses to tell mvfleet what changed. */
export function createProducer(options: ProducerOptions): Producer {
  const { catalog } = options;
  if (!options.backend === !options.redisUrl) {
    throw new ConfigError('createProducer: pass exactly one of `backend` and `redisUrl`');
  }
  if (options.backend && options.prefix !== undefined) {
    throw new ConfigError('createProducer: `prefix` goes with `redisUrl`; a `backend` carries its own');
  }
  const timeoutMs = options.timeoutMs ?? 5_000;
  if (!(timeoutMs > 0)) throw new ConfigError(`createProducer: timeoutMs must be > 0 (got ${timeoutMs})`);
  const logger = options.logger ?? silentLogger();
  const ownBackend = options.redisUrl
    ? createRedisQueueBackend({ url: options.redisUrl, prefix: options.prefix, role: 'producer' })
    : undefined;
  const backend = (options.backend ?? ownBackend)!;
  const queue: Queue = createRefreshQueue(backend);

  async function enqueue(jobs: { data: RefreshJobData; delayMs: number }[]): Promise<void> {
    try {
      const bulk = jobs.map(({ data, delayMs }) => ({
        name: JOB_NAMES.refresh,
        data,
        opts: refreshJobOptions(catalog.get(data.view), data, { delayMs }),
      }));
      // Several views of one event go in one addBulk (together or not at all); a single view
      // uses add, which BullMQ runs about 1.5× faster than a one-job addBulk.
      const added = bulk.length === 1 ? queue.add(bulk[0]!.name, bulk[0]!.data, bulk[0]!.opts) : queue.addBulk(bulk);
      await withTimeout<unknown>(added, timeoutMs, 'enqueue');
    } catch (error) {
      throw new ConnectionError(`cannot enqueue refresh (${backend.target}): ${oneLine(error)}`, { cause: error });
    }
  }

  function handle(requestedAt: Date, views: string[], committedLater = false): RefreshHandle {
    return {
      requestedAt,
      views,
      async waitUntilFresh(waitOptions = {}) {
        if (!options.sql) throw new MvfleetError('waitUntilFresh needs createProducer({ sql }) to read the refresh log');
        // An emit in the app's transaction is covered by refreshes that start after its commit,
        // which came before this call.
        const since = committedLater ? new Date() : requestedAt;
        const results: Record<string, RefreshWaitResult> = {};
        for (const view of views) {
          results[view] = await waitForRefresh(options.sql, catalog.store, { view, requestedAt: since, ...waitOptions });
        }
        return results;
      },
    };
  }

  /**
   * Records requests (and an event's keys) in PostgreSQL, so a lost job loses no request: the
   * workers find it there. Without `sql` nothing is recorded.
   * @returns the views whose whole-view request joined a waiting one.
   */
  async function record(what: string, work: Parameters<typeof recordRequests>[2]): Promise<Set<string>> {
    if (!options.sql) return new Set();
    try {
      const written = await recordRequests(options.sql, catalog.store, work);
      return new Set(work.requests.filter((_, i) => !written[i]).map((request) => request.view));
    } catch (error) {
      // PostgreSQL answered with an error (e.g. an unmigrated database): not a connection problem.
      const state = sqlStateOf(error);
      const answered = state !== null && !state.startsWith('08');
      const message = `cannot record ${what}: ${oneLine(error)}`;
      throw answered ? new MvfleetError(message, { cause: error }) : new ConnectionError(message, { cause: error });
    }
  }

  /**
   * Records the requests, then wakes the workers; the request is acknowledged once both are
   * done. In turn: a database that is down or unmigrated must refuse the request with nothing
   * enqueued, and a job that ran before its keys were recorded would find nothing to drain. A
   * whole-view request that joined a waiting one adds no job (unless it forces a mode): the
   * waiting request has its own, and if that job is lost the workers' sweep finds the request.
   * So an app's hot loop of events for one view costs one PostgreSQL statement each, and no
   * queue call.
   */
  async function recordThenEnqueue(
    what: string,
    work: Parameters<typeof recordRequests>[2],
    jobsAt: (requestedAt: Date) => { data: RefreshJobData; delayMs: number }[],
  ): Promise<Date> {
    const joined = await record(what, work);
    // Taken after the record committed: a refresh that starts later also drains it.
    const requestedAt = new Date();
    // A forced mode (`refresh(view, { mode: 'plain' })`) is the caller's to have: its job goes in.
    const jobs = jobsAt(requestedAt).filter((job) => job.data.scope === 'keys' || job.data.mode !== 'auto' || !joined.has(job.data.view));
    if (jobs.length > 0) await enqueue(jobs);
    return requestedAt;
  }

  async function emit(event: string, payload: Record<string, unknown> = {}, emitOptions: EmitOptions = {}): Promise<RefreshHandle> {
    const run = emitOptions.transaction ? transactionRunner(emitOptions.transaction) : undefined;
    const definition = catalog.event(event);
    const parsed = definition.payload.safeParse(payload);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'payload'} ${issue.message}`);
      throw new UsageError(`invalid payload for ${event}: ${problems.join('; ')}`);
    }
    const views = catalog.viewsForEvent(event);
    // Every key is read (and refused) before anything is written or enqueued.
    // Keys are read from the payload as its schema parsed it (coercions and defaults applied);
    // fields the schema does not declare (a zod object strips them) are read as given.
    const values = { ...payload, ...parsed.data };
    const keys = views.map((view) => eventKey(view, event, values));
    const dirty: DirtyKey[] = options.sql || run
      ? views.flatMap((view, i) => (keys[i] ? [{ view: view.name, key: keys[i] }] : []))
      : [];
    const keyed = new Set(dirty.map((entry) => entry.view));
    const wholeViews = views.filter((view) => !keyed.has(view.name));
    const cascaded = views.flatMap((view) => catalog.downstreamOf(view.name));
    const affected = [...new Set([...views.map((v) => v.name), ...cascaded.map((v) => v.name)])];
    const requests = wholeViews.map((view) => ({ view: view.name, reason: 'event' as const, triggerDetail: event, dueInMs: view.coalesceWindowMs }));
    if (run) {
      try {
        await recordRequestsInTransaction(run, catalog.store, { event, keys: dirty, requests });
      } catch (error) {
        throw new MvfleetError(`cannot record the request of ${event} in the transaction: ${oneLine(error)}`, { cause: error });
      }
      logger.debug({ event, views: views.map((v) => v.name), keys: dirty.length }, 'event recorded in the app transaction');
      return handle(new Date(), affected, true);
    }
    // Taken after the app's write committed (emit follows it): a refresh that starts later covers it.
    const jobsAt = (requestedAt: Date) =>
      views.map((view) => ({
        data: parseRefreshJob({
          view: view.name,
          reason: 'event',
          triggerDetail: event,
          requestedAt: requestedAt.toISOString(),
          scope: keyed.has(view.name) ? 'keys' : 'view',
        }),
        delayMs: view.coalesceWindowMs,
      }));
    const requestedAt = await recordThenEnqueue(`the request of ${event}`, { event, keys: dirty, requests }, jobsAt);
    logger.debug({ event, views: views.map((v) => v.name), keys: dirty.length }, 'event enqueued');
    return handle(requestedAt, affected);
  }

  async function refresh(
    name: string,
    refreshOptions: { reason?: 'manual' | 'api'; detail?: string; mode?: 'auto' | 'plain' | 'concurrent' } = {},
  ): Promise<RefreshHandle> {
    const view = catalog.get(name);
    const reason = refreshOptions.reason ?? 'manual';
    const triggerDetail = refreshOptions.detail ?? null;
    const jobsAt = (requestedAt: Date) => [
      {
        data: parseRefreshJob({ view: view.name, reason, triggerDetail, requestedAt: requestedAt.toISOString(), mode: refreshOptions.mode ?? 'auto' }),
        delayMs: 0,
      },
    ];
    const requestedAt = await recordThenEnqueue(`the refresh of ${view.name}`, { requests: [{ view: view.name, reason, triggerDetail, dueInMs: 0 }] }, jobsAt);
    return handle(requestedAt, [view.name, ...catalog.downstreamOf(view.name).map((v) => v.name)]);
  }

  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      await queue.close();
      await ownBackend?.close();
    })());
  return { emit, refresh, close, [Symbol.asyncDispose]: close };
}
