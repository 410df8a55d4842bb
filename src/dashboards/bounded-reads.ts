import type { Queryable, Sql } from '../core/db.js';
import { isConnectionFailure } from '../core/connection-failures.js';
import { HttpError } from './http-error.js';
import { postgresUnreachable } from './unavailable.js';

/** Runs a route's queries with a bound on each statement. */
export type BoundedReads = <T>(work: (sql: Queryable) => Promise<T>) => Promise<T>;

/** SQLSTATE of a statement cancelled by `statement_timeout`. */
const QUERY_CANCELED = '57014';

/**
 * Every dashboard query runs in a read-only transaction whose `statement_timeout` is
 * `timeoutMs`: a slow or blocked query (a refresh holding a lock, a huge log) ends on the
 * server instead of holding a connection of a pool the app and workers may share. The
 * setting is local to the transaction, so it never leaks onto a pooled connection. A caller
 * that hands the dashboard a transaction (no `begin`) keeps its own settings. A query that
 * fails because PostgreSQL cannot be reached answers 503 "PostgreSQL is unreachable", not 500:
 * the outage is the operator's to fix, not a bug of the dashboard.
 */
export function createBoundedReads(sql: Queryable, timeoutMs: number): BoundedReads {
  const pool = typeof (sql as Partial<Sql>).begin === 'function' ? (sql as Sql) : undefined;
  return async <T>(work: (sql: Queryable) => Promise<T>): Promise<T> => {
    try {
      if (!pool) return await work(sql);
      return (await pool.begin('read only', async (tx) => {
        await tx`SELECT set_config('statement_timeout', ${String(timeoutMs)}, true)`;
        return work(tx);
      })) as T;
    } catch (error) {
      if (pool && (error as { code?: string }).code === QUERY_CANCELED) {
        throw new HttpError(503, `a dashboard query took longer than ${timeoutMs} ms and was cancelled; try again`);
      }
      if (isConnectionFailure(error)) throw postgresUnreachable(error);
      throw error;
    }
  };
}
