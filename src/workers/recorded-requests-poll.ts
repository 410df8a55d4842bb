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
 * found by the rescue.
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
      { view: string; scope: 'view' | 'keys'; summary: string; due_in_ms: number | null; reason: RefreshReason; detail: string | null }[]
    >`
      SELECT view_name AS view, 'view' AS scope, count(*) || ':' || sum(id) AS summary,
             GREATEST(0, extract(epoch FROM min(due_at) - clock_timestamp()) * 1000)::float8 AS due_in_ms,
             (array_agg(reason ORDER BY requested_at))[1] AS reason, (array_agg(trigger_detail ORDER BY requested_at))[1] AS detail
      FROM ${sql(catalog.store.pendingRequests)}
      WHERE view_name = ANY(${views}::text[]) AND reason <> 'schedule'
      GROUP BY view_name
      UNION ALL
      SELECT view_name, 'keys', count(*) || ':' || sum(id), NULL, 'event', (array_agg(event ORDER BY id))[1]
      FROM ${sql(catalog.store.dirtyKeys)}
      WHERE view_name = ANY(${views}::text[])
      GROUP BY view_name`;
    const next = new Map<string, string>();
    let woken = 0;
    const requestedAt = new Date().toISOString();
    for (const row of rows) {
      const id = `${row.scope}:${row.view}`;
      next.set(id, row.summary);
      if (seen.get(id) === row.summary) continue;
      const view = catalog.get(row.view);
      if (row.scope === 'keys' && !view.keyed) continue;
      await enqueueRefresh(queue, catalog, {
        view: view.name,
        // The oldest waiting request names the refresh, as its own job would have.
        reason: row.reason,
        triggerDetail: row.detail,
        requestedAt,
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
