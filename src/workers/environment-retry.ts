import { setTimeout as delay } from 'node:timers/promises';
import { DelayedError, type Job } from 'bullmq';
import type { Sql } from '../core/db.js';
import type { Logger } from '../core/logger.js';
import type { RefreshFailedError } from './refresh-errors.js';
import type { RefreshExecutor } from './refresh-executor.js';

/** Pings after an environment failure wait 100 ms, doubling up to 2 s between pings. */
const FIRST_PING_DELAY_MS = 100;
const MAX_PING_DELAY_MS = 2_000;

/**
 * Waits until PostgreSQL answers `select 1` on `sql`, pinging with a short capped backoff.
 * Resolves true once it answers, false as soon as `stopped()` is true (the worker is closing).
 * The first ping waits too, so a failure that recurs at once cannot spin.
 */
export async function waitForDatabase(sql: Sql, stopped: () => boolean): Promise<boolean> {
  for (let wait = FIRST_PING_DELAY_MS; ; wait = Math.min(wait * 2, MAX_PING_DELAY_MS)) {
    await delay(wait);
    if (stopped()) return false;
    try {
      await sql`select 1`;
      return true;
    } catch {
      // Still unreachable: ping again after a longer wait.
    }
  }
}

/**
 * Hands a job back to the queue, runnable at `at`, without spending an attempt. The move
 * fails when the job's lock is gone (the stalled check gave the job to another worker, or the
 * queue was unreachable for longer than the lock): the job then belongs to that worker, or the
 * stalled check hands it back, so this worker lets go of it either way. Always throws
 * BullMQ's DelayedError, which ends the job's processing here without failing it.
 */
export async function handBack(job: Job, token: string | undefined, at: number, logger: Logger): Promise<never> {
  try {
    await job.moveToDelayed(at, token);
  } catch (error) {
    logger.warn({ err: error, jobId: job.id }, 'could not hand the job back (its lock is gone); the stalled-job check will');
  }
  throw new DelayedError();
}

/**
 * After a failure the environment caused (see `FailureOrigin`): waits for the database to
 * answer, writes the attempt's log row if it could not be written when it failed, and hands
 * the job back to run again at once: the view's attempts and backoff are for its own failures.
 */
export async function retryWhenDatabaseAnswers(context: {
  job: Job;
  token: string | undefined;
  error: RefreshFailedError;
  sql: Sql;
  executor: RefreshExecutor;
  logger: Logger;
  /** True once the worker is closing: stop waiting and leave the job to another worker. */
  closing: () => boolean;
}): Promise<never> {
  const { job, error, logger } = context;
  const fields = { jobId: job.id, view: job.data?.view, sqlState: error.sqlState };
  logger.warn(fields, `${error.message}; not the view's fault: running it again once the database answers (attempt not counted)`);
  if (await waitForDatabase(context.sql, context.closing)) {
    await context.executor.recordFailure(error).catch((logError: unknown) => {
      logger.error({ ...fields, err: logError }, 'could not record the failed refresh');
    });
  } else if (error.logId === null) {
    logger.warn(fields, 'worker closing before the database answered: the failed attempt has no log row');
  }
  return handBack(job, context.token, Date.now(), logger);
}
