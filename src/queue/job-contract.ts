import { randomUUID } from 'node:crypto';
import type { JobsOptions } from 'bullmq';
import { z } from 'zod';
import type { CatalogView } from '../catalog/catalog.js';
import { REFRESH_REASONS } from '../store/refresh-log.js';

/**
 * The contract between producers (SDK, CLI, API, scheduler) and workers: queue and job
 * names and the job payload, validated with zod on both sides.
 */

/** BullMQ queue every refresh request goes through. */
export const REFRESH_QUEUE = 'refresh';

export const JOB_NAMES = {
  /** Refresh one view (and, after success, the views built on it). */
  refresh: 'refresh',
  /** A schedule fired: enqueue a refresh of the view after a random delay in [0, jitter]. */
  tick: 'tick',
} as const;

export const tickJobSchema = z.object({ view: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/) });
export type TickJobData = z.infer<typeof tickJobSchema>;

/** Job scheduler id of a view's schedule; one per scheduled view. */
export const scheduleId = (view: string) => `schedule:${view}`;
/** The view a job scheduler id belongs to, or null for schedulers mvfleet does not own. */
export const viewOfScheduleId = (id: string) => (id.startsWith('schedule:') ? id.slice('schedule:'.length) : null);
/** Scheduled refreshes coalesce among themselves only: an event never waits behind a jittered tick. */
export const scheduledCoalesceKey = (view: string) => `${view}:schedule`;

export const refreshJobSchema = z.object({
  view: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a catalog view name'),
  reason: z.enum(REFRESH_REASONS),
  /** Event name, scheduler id, upstream view of a cascade, or free text (≤ 200 characters). */
  triggerDetail: z.string().max(200).nullable().default(null),
  /** ISO time of the request: the refresh that satisfies it must start after it. */
  requestedAt: z.iso.datetime({ offset: true }),
  mode: z.enum(['auto', 'plain', 'concurrent']).default('auto'),
  /**
   * `keys`: an event recorded the keys it touched in `mv_dirty_keys`; the refresh may
   * recompute just those. `view`: the whole view.
   */
  scope: z.enum(['view', 'keys']).default('view'),
  /** Refresh the views built on this one after it succeeds. */
  cascade: z.boolean().default(true),
});

export type RefreshJobData = z.infer<typeof refreshJobSchema>;
export type RefreshJobInput = z.input<typeof refreshJobSchema>;

/** Parses a payload, naming the job in the error. */
export function parseRefreshJob(data: unknown, jobId?: string): RefreshJobData {
  const result = refreshJobSchema.safeParse(data);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.') || 'payload'} ${issue.message}`);
  throw new Error(`invalid refresh job${jobId ? ` ${jobId}` : ''}: ${problems.join('; ')}`);
}

/** Finished jobs are kept for an hour (count-capped) so Redis does not grow with traffic. */
export const REMOVE_ON_COMPLETE = { age: 3_600, count: 1_000 } as const;
/** Failed jobs are kept longer for inspection in Bull Board, still capped. */
export const REMOVE_ON_FAIL = { age: 7 * 24 * 3_600, count: 5_000 } as const;

/** BACKOFF_TYPE names the worker's custom strategy, which reads the view's catalog backoff. */
export const BACKOFF_TYPE = 'mvfleet-view';

/**
 * Job options of a refresh of `view`: retries per the catalog, bounded retention, and
 * coalescing. Requests with the same key share one pending job (which keeps the first
 * request's data); while it runs, the latest request is kept and enqueued when it finishes
 * (`keepLastIfActive`), so a request is not dropped in favour of a refresh that may have read
 * the data before the request's write.
 * The default key is the view, suffixed with the mode when it is not `auto` and with `keys`
 * for key-scoped requests: a whole-view request must never be absorbed by a targeted one.
 *
 * Every job gets a random UUID as its id, kept in `mv_refresh_log.job_id`: BullMQ's own ids
 * count from 1 again when the queue's store loses its data, so they would repeat in the log.
 * Coalescing is unaffected: a request that joins a pending job gets that job's id, and the one
 * kept while a job runs becomes a job under its own id.
 */
export function refreshJobOptions(
  view: CatalogView,
  data: Pick<RefreshJobData, 'mode' | 'scope'>,
  options: { delayMs?: number; coalesceKey?: string } = {},
): JobsOptions {
  return {
    jobId: randomUUID(),
    attempts: view.retryBackoffMs.length + 1,
    backoff: { type: BACKOFF_TYPE },
    removeOnComplete: REMOVE_ON_COMPLETE,
    removeOnFail: REMOVE_ON_FAIL,
    delay: Math.max(0, options.delayMs ?? 0),
    deduplication: {
      id: options.coalesceKey ?? defaultCoalesceKey(view.name, data),
      keepLastIfActive: true,
    },
  };
}

function defaultCoalesceKey(view: string, data: Pick<RefreshJobData, 'mode' | 'scope'>): string {
  const mode = data.mode === 'auto' ? view : `${view}:${data.mode}`;
  return data.scope === 'keys' ? `${mode}:keys` : mode;
}
