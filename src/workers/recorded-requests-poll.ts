import type { Queue } from 'bullmq';
import type { Catalog } from '../catalog/catalog.js';
import type { Queryable } from '../core/db.js';
import { enqueueRefresh } from '../queue/refresh-queue.js';
import type { RefreshReason } from '../store/refresh-log.js';

/**
 * Some requests are recorded with no job to wake a worker: capture triggers record them in
 * the writers' transactions and send no notification (a NOTIFY per transaction serialises
 * the writers' commits), and an `emit` in the app's transaction cannot enqueue before the app
 * commits. So each worker reads, every `intervalMs`, a summary of the requests waiting per
 * view (schedule ticks aside: they wait for their jitter): count and sum of ids, which change
 * whenever a row comes or goes, even one whose id is older than the newest. A view whose
 * summary changed gets a wake-up job, due when its earliest request is, which joins any job of
 * the view still queued. Rows are found whatever order writers commit in; a lost wake-up is
 * found by the rescue. While a refresh of the view is running (its log row says so) and every
 * row seen is older than its start, those rows are most likely the ones it drained and has not
 * committed yet: the view is looked at again after it, rather than woken for a second refresh
 * that would cover nothing new. A row newer than the running refresh wakes the view as usual.
 */
export interface RecordedRequestsPoll {
  /** Reads the summary once and wakes the views whose requests changed; resolves with how many. */
  poll(): Promise<number>;
}

export function createRecordedRequestsPoll(deps: { sql: Queryable; catalog: Catalog; queue: Queue }): RecordedRequestsPoll {
  const { sql, catalog, queue } = deps;
  const views = catalog.views.map((view) => view.name);
  let seen = new Map<string, string>();

  async function poll(): Promise<number> {
    const rows = await sql<
      {
        view: string;
        scope: 'view' | 'keys';
        summary: string;
        due_in_ms: number | null;
        reason: RefreshReason;
        detail: string | null;
        read_at_ms: number;
        refreshing: boolean;
      }[]
    >`
      SELECT view_name AS view, 'view' AS scope, count(*) || ':' || sum(id) AS summary,
             GREATEST(0, extract(epoch FROM min(due_at) - clock_timestamp()) * 1000)::float8 AS due_in_ms,
             (array_agg(reason ORDER BY requested_at))[1] AS reason, (array_agg(trigger_detail ORDER BY requested_at))[1] AS detail,
             ceil(extract(epoch FROM clock_timestamp()) * 1000)::float8 AS read_at_ms,
             EXISTS (SELECT 1 FROM ${sql(catalog.store.refreshLog)} l
                     WHERE l.view_name = p.view_name AND l.status = 'running' AND l.started_at >= max(p.requested_at)) AS refreshing
      FROM ${sql(catalog.store.pendingRequests)} p
      WHERE view_name = ANY(${views}::text[]) AND reason <> 'schedule'
      GROUP BY view_name
      UNION ALL
      SELECT view_name, 'keys', count(*) || ':' || sum(id), NULL, 'event', (array_agg(event ORDER BY id))[1],
             ceil(extract(epoch FROM clock_timestamp()) * 1000)::float8,
             EXISTS (SELECT 1 FROM ${sql(catalog.store.refreshLog)} l
                     WHERE l.view_name = d.view_name AND l.status = 'running' AND l.started_at >= max(d.recorded_at))
      FROM ${sql(catalog.store.dirtyKeys)} d
      WHERE view_name = ANY(${views}::text[])
      GROUP BY view_name`;
    const next = new Map<string, string>();
    let woken = 0;
    for (const row of rows) {
      const id = `${row.scope}:${row.view}`;
      if (row.refreshing) {
        // Unchanged as far as this poll knows: the next one compares with what was seen before.
        const before = seen.get(id);
        if (before !== undefined) next.set(id, before);
        continue;
      }
      next.set(id, row.summary);
      if (seen.get(id) === row.summary) continue;
      const view = catalog.get(row.view);
      if (row.scope === 'keys' && !view.keyed) continue;
      await enqueueRefresh(queue, catalog, {
        view: view.name,
        // The oldest waiting request names the refresh, as its own job would have.
        reason: row.reason,
        triggerDetail: row.detail,
        // When the rows were read (after the snapshot that saw them committed, rounded up): a
        // refresh that started later covers them, and the wake-up is then skipped. A time taken
        // here, after the round trip, would make it refresh again behind such a refresh.
        requestedAt: new Date(row.read_at_ms).toISOString(),
        scope: row.scope,
        delayMs: Math.round(row.due_in_ms ?? view.coalesceWindowMs),
      });
      woken += 1;
    }
    seen = next;
    return woken;
  }

  return { poll };
}
