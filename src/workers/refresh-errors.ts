import { errorChain, isConnectionFailureCode } from '../core/connection-failures.js';
import { MvfleetError } from '../core/errors.js';

/**
 * What a failed refresh is blamed on. `environment`: the database was unreachable, restarting,
 * full of connections, or an operator cancelled the statement; the refresh runs again as soon
 * as the database answers, without spending an attempt. `view`: the view's own refresh failed
 * (lock or statement timeout, an error in its SQL); the view's retry backoff applies.
 */
export type FailureOrigin = 'environment' | 'view';

/** A refresh that failed and may succeed later (lock timeout, statement timeout, lost connection). */
export class RefreshFailedError extends MvfleetError {
  /** See {@link FailureOrigin}. */
  readonly origin: FailureOrigin;
  /**
   * Whole-view requests the failed attempt drained and would have covered (ids in the
   * pending requests; its rollback put them back). A final failure ends exactly these.
   */
  readonly drainedRequestIds: readonly number[];

  constructor(
    message: string,
    /** SQLSTATE reported by PostgreSQL, if any. */
    readonly sqlState: string | null,
    /** `mv_refresh_log.id` of the failed attempt, if a row was written. */
    readonly logId: number | null,
    options?: { cause?: unknown; origin?: FailureOrigin; drainedRequestIds?: readonly number[] },
  ) {
    super(message, options);
    this.origin = options?.origin ?? 'view';
    this.drainedRequestIds = options?.drainedRequestIds ?? [];
  }
}

/** A refresh that cannot succeed by retrying (unknown view, no unique index for a forced concurrent refresh). */
export class PermanentRefreshError extends RefreshFailedError {}

/**
 * SQLSTATE classes and codes that retrying cannot fix: syntax and access errors, missing
 * objects, a CONCURRENTLY refresh without a usable unique index (55000).
 */
const PERMANENT_SQLSTATES = new Set(['55000', '42P01', '42501', '42703', '42883', '0A000']);
const PERMANENT_CLASSES = new Set(['42', '22', '23']);

export function isPermanentSqlState(sqlState: string | null): boolean {
  if (!sqlState) return false;
  return PERMANENT_SQLSTATES.has(sqlState) || PERMANENT_CLASSES.has(sqlState.slice(0, 2));
}

/**
 * Blames a failure on the environment or on the view (see {@link FailureOrigin}). Looks
 * through `cause` chains and the errors of an `AggregateError` (a refused connection to a
 * host with several addresses). A cancelled statement (57014) is the environment's when an
 * operator cancelled it (`pg_cancel_backend`, "due to user request") and the view's when it
 * ran past its statement_timeout; a server whose messages are translated (lc_messages) gets
 * the view's backoff, as before this distinction existed.
 */
export function failureOrigin(error: unknown): FailureOrigin {
  for (const { code, message } of errorChain(error)) {
    if (typeof code !== 'string') continue;
    if (isConnectionFailureCode(code)) return 'environment';
    if (code === '57014') return typeof message === 'string' && message.includes('due to user request') ? 'environment' : 'view';
  }
  return 'view';
}
