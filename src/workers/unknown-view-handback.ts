import { DelayedError, type Job } from 'bullmq';
import type { Logger } from '../core/logger.js';

/** A worker repeats its warning about one view it does not know at most this often. */
const WARN_EVERY_MS = 10 * 60_000;

/**
 * Hands a job (refresh or schedule tick) for a view this worker's catalog does not know back
 * to the queue, delayed by `delayMs`, without spending one of its attempts.
 *
 * During a rolling deploy a new producer or scheduler requests a view that workers still on
 * the old catalog have never heard of. Failing the job would lose the request; handed back,
 * it waits until a worker that knows the view takes it.
 */
export function createUnknownViewHandback(options: { logger: Logger; delayMs: number }) {
  const { logger, delayMs } = options;
  const warnedAt = new Map<string, number>();

  return async function handBack(job: Job, view: string, token: string | undefined): Promise<never> {
    const now = Date.now();
    const fields = { jobId: job.id, view, retryInMs: delayMs };
    const last = warnedAt.get(view);
    if (last === undefined || now - last >= WARN_EVERY_MS) {
      warnedAt.set(view, now);
      logger.warn(
        fields,
        `view ${view} is not in this worker's catalog (a newer deploy knows it?): job ${job.id} handed back to the queue for ${delayMs} ms`,
      );
    } else {
      logger.debug(fields, `job ${job.id} for unknown view ${view} handed back`);
    }
    // Like a busy view: back to delayed with the attempt not counted, then DelayedError tells
    // BullMQ the job has already been moved and must not be completed or failed.
    await job.moveToDelayed(now + delayMs, token);
    throw new DelayedError();
  };
}
