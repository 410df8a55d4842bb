import { EventEmitter } from 'node:events';
import type { Catalog, CatalogView } from '../core/catalog.js';
import type { Sql } from '../core/db.js';
import { oneLine } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import type { RefreshMode, RefreshReason } from '../schema/refresh-log.js';
import { PermanentRefreshError, RefreshFailedError, isPermanentSqlState } from './refresh-errors.js';
import { insertSkipped, markFailed, markSuccess, startAttempt, type AttemptIdentity } from './refresh-log-store.js';
import { beginRefresh, countRows, refreshStatement, type RefreshStart } from './refresh-sql.js';
import { probeLockWait } from './lock-wait-probe.js';

/** How to refresh: `auto` picks CONCURRENTLY when the view allows it. */
export type ModePreference = 'auto' | 'plain' | 'concurrent';

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
}

export type RefreshOutcome =
  | {
      status: 'success';
      logId: number;
      view: string;
      mode: RefreshMode;
      /** The refresh's `as_of`. */
      startedAt: Date;
      durationMs: number;
      lockWaitMs: number;
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
   * {@link PermanentRefreshError} or {@link RefreshFailedError} after logging the failure.
   */
  refresh(request: RefreshRequest): Promise<RefreshOutcome>;
  /**
   * Cancels every refresh in flight (`pg_cancel_backend`); their views keep their previous
   * contents and their log rows say `cancelled: <why>`.
   */
  cancelAll(why: string): Promise<number>;
  /** Views being refreshed by this executor right now. */
  inFlight(): string[];
}

function sqlStateOf(error: unknown): string | null {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : null;
}

function chooseMode(view: CatalogView, state: RefreshStart, preference: ModePreference) {
  if (preference === 'plain') return 'plain' as const;
  const concurrentPossible = state.populated && state.hasUsableUniqueIndex;
  if (preference === 'concurrent' && !concurrentPossible) {
    const why = state.populated ? 'it has no usable unique index (run mvfleet migrate)' : 'it is not populated yet';
    throw new PermanentRefreshError(`cannot refresh ${view.name} concurrently: ${why}`, '55000', null);
  }
  return concurrentPossible ? ('concurrent' as const) : ('plain' as const);
}

/** Creates the executor that runs `REFRESH MATERIALIZED VIEW` for catalog views. */
export function createRefreshExecutor(options: RefreshExecutorOptions): RefreshExecutor {
  const { sql, catalog } = options;
  const workerId = options.workerId ?? null;
  const logger = options.logger ?? silentLogger();
  const skewToleranceMs = options.skewToleranceMs ?? 1000;
  const running = new Map<string, number>(); // view -> backend pid of its refresh transaction
  const cancelled = new Map<string, string>(); // view -> why its refresh was cancelled
  const emitter = new EventEmitter<RefreshExecutorEvents>();

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

    let logId: number | null = null;
    let mode: RefreshMode | null = null;
    let lockWaitMs: number | null = null;
    let registered = false;
    try {
      const outcome = await sql.begin(async (tx) => {
        const start = await beginRefresh(tx, view.name, view);
        if (!start.acquired) return { status: 'busy', view: view.name } as const;
        const { requestedAt } = identity;
        const coveredBy = start.coveredBy;
        if (requestedAt && coveredBy && coveredBy.getTime() >= requestedAt.getTime() + skewToleranceMs) {
          const message = `already fresh: a refresh started at ${coveredBy.toISOString()}, after the request`;
          return { status: 'skipped', logId: await insertSkipped(sql, identity, message), view: view.name, coveredBy } as const;
        }
        const { pid } = start;
        const attempt = await startAttempt(sql, identity, pid);
        logId = attempt.id;
        if (attempt.orphansClosed > 0) log.warn({ orphans: attempt.orphansClosed }, 'closed refresh-log rows of a lost worker');
        running.set(view.name, pid);
        registered = true;

        if (!start.exists) {
          throw new PermanentRefreshError(`materialized view ${view.name} does not exist (run mvfleet migrate)`, '42P01', logId);
        }
        mode = chooseMode(view, start, request.mode ?? 'auto');
        emitter.emit('refresh:start', { view: view.name, logId, mode, request });
        // started_at was taken after the fence and before REFRESH takes its snapshot, so as_of
        // never claims more than the view holds; lock waits count in lock_wait_ms and the duration.
        const { startedAt } = attempt;
        const probe = probeLockWait(sql, pid);
        try {
          await tx.unsafe(refreshStatement(view.name, mode));
        } finally {
          lockWaitMs = await probe.stop();
        }
        const rowsAfter = await countRows(tx, view.name);
        await markSuccess(tx, logId, { mode, startedAt, lockWaitMs: lockWaitMs ?? 0, rowsAfter });
        const durationMs = Date.now() - startedAt.getTime();
        return {
          status: 'success',
          logId,
          view: view.name,
          mode,
          startedAt,
          durationMs,
          lockWaitMs: lockWaitMs ?? 0,
          rowsAfter,
        } as const;
      });
      if (outcome.status === 'success') {
        log.info(
          { mode: outcome.mode, durationMs: outcome.durationMs, lockWaitMs: outcome.lockWaitMs, rows: outcome.rowsAfter },
          'refresh succeeded',
        );
        emitter.emit('refresh:success', { ...outcome, request });
      } else if (outcome.status === 'skipped') {
        log.debug({ coveredBy: outcome.coveredBy }, 'refresh skipped: request already covered');
      }
      return outcome;
    } catch (cause) {
      const sqlState = cause instanceof RefreshFailedError ? cause.sqlState : sqlStateOf(cause);
      const cancelReason = sqlState === '57014' ? cancelled.get(view.name) : undefined;
      const detail = cancelReason ? `cancelled: ${cancelReason}` : oneLine(cause);
      const message = `refresh of ${view.name} failed: ${detail}`;
      const permanent = cause instanceof PermanentRefreshError || isPermanentSqlState(sqlState);
      const error = permanent
        ? new PermanentRefreshError(message, sqlState, logId, { cause })
        : new RefreshFailedError(message, sqlState, logId, { cause });
      if (logId !== null) {
        try {
          await markFailed(sql, logId, { mode, lockWaitMs, message: detail, sqlState });
        } catch (logError) {
          log.error({ err: logError }, 'could not record the failed refresh');
        }
      }
      log.warn({ sqlState, permanent, err: cause }, message);
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

  return Object.assign(emitter, { refresh, cancelAll, inFlight: () => [...running.keys()] });
}
