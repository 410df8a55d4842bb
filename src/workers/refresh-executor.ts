import { EventEmitter } from 'node:events';
import type { Catalog, CatalogView } from '../catalog/catalog.js';
import type { Sql } from '../core/db.js';
import { oneLine, sqlStateOf } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import type { RefreshMode, RefreshReason, RefreshStrategy } from '../store/refresh-log.js';
import { PermanentRefreshError, RefreshFailedError, failureOrigin, isPermanentSqlState } from './refresh-errors.js';
import { insertFailed, insertSkipped, markFailed, markSuccess, startAttempt, type AttemptIdentity } from './refresh-log-store.js';
import { beginRefresh } from './refresh-sql.js';
import { applyRefresh, type ModePreference, type RefreshScope } from './refresh-strategy.js';
import { probeLockWait } from './lock-wait-probe.js';
import { recordRequests, type PendingRequest } from '../store/pending-requests.js';

export type { ModePreference, RefreshScope } from './refresh-strategy.js';

/** One request to refresh one view. */
export interface RefreshRequest {
  view: string;
  reason: RefreshReason;
  /** Event name, scheduler id, upstream view of a cascade, free text of a manual refresh. */
  triggerDetail?: string | null;
  /**
   * When the refresh was asked for. A request is already satisfied, and logged as
   * `skipped`, when a successful refresh started after it.
   */
  requestedAt?: Date | null;
  jobId?: string | null;
  /** @defaultValue 1 */
  attempt?: number;
  /** @defaultValue 'auto' */
  mode?: ModePreference;
  /**
   * `keys`: recompute only the keys events recorded as dirty, when the view is stored as a
   * table and they are few enough; otherwise, and for `view`, the whole view.
   * @defaultValue 'view'
   */
  scope?: RefreshScope;
  /**
   * Requests recorded in the refresh's own transaction when it succeeds (the cascade to the
   * views built on this one), so no crash between the refresh and their jobs can lose them.
   * @defaultValue []
   */
  followUp?: readonly PendingRequest[];
}

export type RefreshOutcome =
  | {
      status: 'success';
      logId: number;
      view: string;
      mode: RefreshMode;
      strategy: RefreshStrategy;
      /** Keyed views: dirty keys drained; null otherwise. */
      keysRefreshed: number | null;
      /** Full rebuilds of tables: rows changed outside the announced keys; null otherwise. */
      rowsCorrected: number | null;
      /** The refresh's `as_of`. */
      startedAt: Date;
      durationMs: number;
      /** Null for table-stored views (not sampled: a refresh takes only row locks there). */
      lockWaitMs: number | null;
      rowsAfter: number;
    }
  | { status: 'skipped'; logId: number; view: string; coveredBy: Date }
  /** Another refresh of the view holds its fence; nothing was attempted or logged. */
  | { status: 'busy'; view: string };

/** Events of {@link RefreshExecutor}. */
export interface RefreshExecutorEvents {
  'refresh:start': [{ view: string; logId: number; mode: RefreshMode; request: RefreshRequest }];
  'refresh:success': [Extract<RefreshOutcome, { status: 'success' }> & { request: RefreshRequest }];
  'refresh:failed': [{ view: string; logId: number | null; error: RefreshFailedError; request: RefreshRequest }];
}

/** Options for {@link createRefreshExecutor}. */
export interface RefreshExecutorOptions {
  /** Pool used for the refresh transaction and, separately, the log rows (needs 2 connections per refresh). */
  sql: Sql;
  catalog: Catalog;
  /**
   * Recorded in `mv_refresh_log.worker_id`.
   * @defaultValue null
   */
  workerId?: string | null;
  /** @defaultValue a silent logger */
  logger?: Logger;
  /**
   * A request counts as already covered only by a refresh that started at least this long
   * after it. `requestedAt` comes from the requesting host's clock and `started_at` from
   * PostgreSQL's, so the margin absorbs clock skew: skipping is an optimisation, losing a
   * refresh is not acceptable.
   * @defaultValue 1000
   */
  skewToleranceMs?: number;
}

export interface RefreshExecutor extends EventEmitter<RefreshExecutorEvents> {
  /**
   * Refreshes one view under its fence. Resolves with the outcome; rejects with
   * {@link PermanentRefreshError} or {@link RefreshFailedError} (its `origin` says whether the
   * view or the environment failed) after writing the attempt's `failed` row, also for an
   * attempt that failed before its `running` row; when the database does not answer, the row
   * waits for {@link RefreshExecutor.recordFailure}.
   */
  refresh(request: RefreshRequest): Promise<RefreshOutcome>;
  /**
   * Writes the log row of a failed attempt that {@link RefreshExecutor.refresh} could not write
   * when it failed (the database did not answer); call it once the database answers again.
   * Resolves with the row's id; does nothing for a failure already recorded; rejects, and can
   * be called again, while the database still does not answer.
   */
  recordFailure(error: RefreshFailedError): Promise<number | null>;
  /**
   * Cancels every refresh in flight (`pg_cancel_backend`); their views keep their previous
   * contents and their log rows say `cancelled: <why>`.
   */
  cancelAll(why: string): Promise<number>;
  /** Views being refreshed by this executor right now. */
  inFlight(): string[];
}

/** Creates the executor that refreshes catalog views (REFRESH MATERIALIZED VIEW, or targeted and full rebuilds of tables). */
export function createRefreshExecutor(options: RefreshExecutorOptions): RefreshExecutor {
  const { sql, catalog } = options;
  const workerId = options.workerId ?? null;
  const logger = options.logger ?? silentLogger();
  const skewToleranceMs = options.skewToleranceMs ?? 1000;
  const running = new Map<string, number>(); // view -> backend pid of its refresh transaction
  const cancelled = new Map<string, string>(); // view -> why its refresh was cancelled
  const emitter = new EventEmitter<RefreshExecutorEvents>();
  // Failed attempts whose log row could not be written yet (the database was unreachable).
  const unrecorded = new WeakMap<RefreshFailedError, () => Promise<number>>();

  async function refresh(request: RefreshRequest): Promise<RefreshOutcome> {
    let view: CatalogView;
    try {
      view = catalog.get(request.view);
    } catch (error) {
      throw new PermanentRefreshError(oneLine(error), null, null, { cause: error });
    }
    const identity: AttemptIdentity = {
      view: view.name,
      reason: request.reason,
      triggerDetail: request.triggerDetail ?? null,
      jobId: request.jobId ?? null,
      attempt: request.attempt ?? 1,
      workerId,
      requestedAt: request.requestedAt ?? null,
    };
    const log = logger.child({ view: view.name, jobId: identity.jobId, attempt: identity.attempt });
    const began = performance.now();

    let mode: RefreshMode | null = null;
    let lockWaitMs: number | null = null;
    let registered = false;
    let pendingAttempt: Promise<{ id: number }> | null = null;
    let drainedRequestIds: number[] = [];
    try {
      const outcome = await sql.begin(async (tx) => {
        const { requestedAt } = identity;
        const start = await beginRefresh(tx, catalog.store, view.name, view, {
          scope: request.scope ?? 'view',
          coveredAfter: requestedAt ? new Date(requestedAt.getTime() + skewToleranceMs) : null,
          drain: view.keyed !== null,
        });
        if (!start.acquired) return { status: 'busy', view: view.name } as const;
        drainedRequestIds = start.drainedRequestIds;
        const coveredBy = start.coveredBy;
        if (start.skip && coveredBy) {
          const message = `already fresh: a refresh started at ${coveredBy.toISOString()}, after the request`;
          return { status: 'skipped', logId: await insertSkipped(sql, catalog.store, identity, message), view: view.name, coveredBy } as const;
        }
        const { pid, startedAt } = start;
        // The running row goes in on another connection while the refresh runs (a targeted
        // refresh takes a few milliseconds; waiting for the row first would add a third).
        const attemptStarted = startAttempt(sql, catalog.store, identity, pid, startedAt);
        pendingAttempt = attemptStarted;
        void attemptStarted.then((attempt) => {
          if (attempt.orphansClosed > 0) log.warn({ orphans: attempt.orphansClosed }, 'closed refresh-log rows of a lost worker');
        }, () => {});
        running.set(view.name, pid);
        registered = true;

        try {
          if (!start.exists) {
            throw new PermanentRefreshError(`view ${view.name} does not exist (run mvfleet migrate)`, '42P01', null);
          }
          // Tables take only row-level locks during a refresh: nothing to sample (and a 2 ms
          // targeted refresh would pay for the sampling). lock_timeout still applies.
          const probe = view.storage === 'materialized' ? probeLockWait(sql, pid) : { stop: async () => null };
          let applied;
          try {
            applied = await applyRefresh(
              tx,
              catalog.store,
              view,
              start,
              { scope: request.scope ?? 'view', mode: request.mode ?? 'auto' },
              (decided) => {
                mode = decided;
                void attemptStarted.then(
                  (attempt) => emitter.emit('refresh:start', { view: view.name, logId: attempt.id, mode: decided, request }),
                  () => {},
                );
              },
            );
          } finally {
            lockWaitMs = await probe.stop();
          }
          const attempt = await attemptStarted;
          const { discardedKeys, ...done } = applied;
          if (discardedKeys.length > 0) {
            log.warn({ discardedKeys: discardedKeys.slice(0, 10), count: discardedKeys.length }, 'dropped malformed dirty keys; rebuilt the view whole');
          }
          const result = { ...done, startedAt, lockWaitMs };
          await markSuccess(tx, catalog.store, attempt.id, result);
          if (request.followUp?.length) await recordRequests(tx, catalog.store, { requests: request.followUp });
          return {
            status: 'success',
            logId: attempt.id,
            view: view.name,
            ...result,
            durationMs: Date.now() - startedAt.getTime(),
          } as const;
        } catch (error) {
          // Hold the fence until the running row is in: a producer that finds the fence free
          // then also finds this attempt in the log, and does not count on requests that its
          // failure may end (see engine migration 3).
          await attemptStarted.catch(() => {});
          throw error;
        }
      });
      if (outcome.status === 'success') {
        const { mode: done, strategy, keysRefreshed, rowsCorrected, durationMs, lockWaitMs: waited, rowsAfter } = outcome;
        log.info(
          { mode: done, strategy, keysRefreshed, rowsCorrected, durationMs, lockWaitMs: waited, rows: rowsAfter },
          'refresh succeeded',
        );
        if (rowsCorrected) log.warn({ rowsCorrected }, 'full rebuild corrected rows that no event announced');
        emitter.emit('refresh:success', { ...outcome, request });
      } else if (outcome.status === 'skipped') {
        log.debug({ coveredBy: outcome.coveredBy }, 'refresh skipped: request already covered');
      }
      return outcome;
    } catch (cause) {
      const failedAt = performance.now();
      // The running row may still be on its way: a failure must close it, never leave it running.
      const attemptRow = pendingAttempt as Promise<{ id: number }> | null;
      const runningId = attemptRow ? await attemptRow.then((attempt) => attempt.id, () => null) : null;
      const sqlState = cause instanceof RefreshFailedError ? cause.sqlState : sqlStateOf(cause);
      const cancelReason = sqlState === '57014' ? cancelled.get(view.name) : undefined;
      const detail = cancelReason ? `cancelled: ${cancelReason}` : oneLine(cause);
      const message = `refresh of ${view.name} failed: ${detail}`;
      const permanent = cause instanceof PermanentRefreshError || isPermanentSqlState(sqlState);
      const origin = permanent ? 'view' : failureOrigin(cause);
      // An attempt that failed before its running row (in the fence statement, or on a broken
      // connection) still gets a row, so the page, the API and the metrics count it.
      const record = async () => {
        if (runningId === null) {
          const ranForMs = failedAt - began;
          return insertFailed(sql, catalog.store, identity, { mode, message: detail, sqlState, ranForMs, failedAgoMs: performance.now() - failedAt });
        }
        await markFailed(sql, catalog.store, runningId, { mode, lockWaitMs, message: detail, sqlState });
        return runningId;
      };
      let logId = runningId;
      let recorded = false;
      try {
        logId = await record();
        recorded = true;
      } catch (logError) {
        // Unreachable database: the caller writes it once the database answers (recordFailure).
        log.warn({ err: logError, origin }, 'could not record the failed refresh yet');
      }
      const error = permanent
        ? new PermanentRefreshError(message, sqlState, logId, { cause, drainedRequestIds })
        : new RefreshFailedError(message, sqlState, logId, { cause, origin, drainedRequestIds });
      if (!recorded) unrecorded.set(error, record);
      log.warn({ sqlState, permanent, origin, err: cause }, message);
      emitter.emit('refresh:failed', { view: view.name, logId, error, request });
      throw error;
    } finally {
      if (registered) {
        running.delete(view.name);
        cancelled.delete(view.name);
      }
    }
  }

  async function cancelAll(why: string): Promise<number> {
    const pids = [...running.values()];
    if (pids.length === 0) return 0;
    for (const view of running.keys()) cancelled.set(view, why);
    const rows = await sql`SELECT pg_cancel_backend(pid) FROM unnest(${pids}::int[]) AS pid`;
    return rows.length;
  }

  async function recordFailure(error: RefreshFailedError): Promise<number | null> {
    const record = unrecorded.get(error);
    if (!record) return error.logId;
    const id = await record();
    unrecorded.delete(error);
    return id;
  }

  return Object.assign(emitter, { refresh, recordFailure, cancelAll, inFlight: () => [...running.keys()] });
}
