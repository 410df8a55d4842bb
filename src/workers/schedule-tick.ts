import type { Job, Queue } from 'bullmq';
import type { Catalog } from '../catalog/catalog.js';
import { scheduledCoalesceKey, scheduleId, tickJobSchema } from '../queue/job-contract.js';
import type { Queryable } from '../core/db.js';
import { requestRefresh } from '../queue/request-refresh.js';

/** A uniformly random delay in `[0, jitterMs]`, whole milliseconds. */
export function jitterDelay(jitterMs: number, random: () => number = Math.random): number {
  return Math.min(jitterMs, Math.floor(random() * (jitterMs + 1)));
}

/**
 * Handles a schedule tick: enqueues a refresh after a random delay in `[0, jitter]`, so
 * many views and many installs do not all refresh at :00. Scheduled refreshes coalesce
 * under their own key, so events are never held back by a pending jittered refresh; when
 * an event's refresh runs first, the scheduled one finds the request covered and is
 * logged as skipped.
 */
export async function handleScheduleTick(
  job: Job,
  deps: { sql?: Queryable; queue: Queue; catalog: Catalog; random?: () => number; now?: () => Date },
): Promise<{ view: string; delayMs: number; jobId: string }> {
  const { view: name } = tickJobSchema.parse(job.data);
  const view = deps.catalog.get(name);
  const delayMs = jitterDelay(view.schedule?.jitterMs ?? 0, deps.random);
  const { jobId } = await requestRefresh(deps, {
    view: view.name,
    reason: 'schedule',
    triggerDetail: scheduleId(view.name),
    requestedAt: (deps.now?.() ?? new Date()).toISOString(),
    delayMs,
    coalesceKey: scheduledCoalesceKey(view.name),
  });
  return { view: view.name, delayMs, jobId };
}
