import { MvfleetError } from '../core/errors.js';

/** A refresh that failed and may succeed later (lock timeout, statement timeout, lost connection). */
export class RefreshFailedError extends MvfleetError {
  constructor(
    message: string,
    /** SQLSTATE reported by PostgreSQL, if any. */
    readonly sqlState: string | null,
    /** `mv_refresh_log.id` of the failed attempt, if a row was written. */
    readonly logId: number | null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
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
