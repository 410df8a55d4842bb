import type { Queue } from 'bullmq';
import type { Catalog } from '../catalog/catalog.js';
import type { Queryable } from '../core/db.js';
import type { Logger } from '../core/logger.js';
import { enqueueRefresh } from '../queue/refresh-queue.js';

/**
 * Capture triggers record requests in the writers' transactions and send no notification (a
 * NOTIFY per transaction serialises the writers' commits). Instead each worker reads, every
 * `intervalMs`, a summary of the captured requests waiting per view: count and sum of ids,
 * which change whenever a row comes or goes, even one whose id is older than the newest.
 * A view whose summary changed gets a wake-up job, which joins any job of the view still
 * queued. Rows are found whatever order writers commit in, and a lost wake-up is found by
 * the rescue.
 */
export interface CaptureWakeup {
  /** Reads the summary once and wakes the views whose captured requests changed. */
  poll(): Promise<number>;
}

export function createCaptureWakeup(deps: { sql: Queryable; catalog: Catalog; queue: Queue; logger: Logger }): CaptureWakeup {
  const { sql, catalog, queue } = deps;
  const capturing = catalog.views.filter((view) => view.capture.length > 0);
  const wholeViews = capturing.map((view) => view.name);
  const keyedViews = capturing.filter((view) => view.capture.some((source) => source.key)).map((view) => view.name);
  let seen = new Map<string, string>();

  async function poll(): Promise<number> {
    if (capturing.length === 0) return 0;
    const rows = await sql<{ view: string; scope: 'view' | 'keys'; summary: string; due_in_ms: number }[]>`
      SELECT view_name AS view, 'view' AS scope, count(*) || ':' || sum(id) AS summary,
             GREATEST(0, extract(epoch FROM min(due_at) - clock_timestamp()) * 1000)::float8 AS due_in_ms
      FROM ${sql(catalog.store.pendingRequests)}
      WHERE view_name = ANY(${wholeViews}::text[]) AND starts_with(trigger_detail, 'capture ')
      GROUP BY view_name
      UNION ALL
      SELECT view_name, 'keys', count(*) || ':' || sum(id), NULL
      FROM ${sql(catalog.store.dirtyKeys)}
      WHERE view_name = ANY(${keyedViews}::text[]) AND starts_with(event, 'capture ')
      GROUP BY view_name`;
    const next = new Map<string, string>();
    let woken = 0;
    const requestedAt = new Date().toISOString();
    for (const row of rows) {
      const id = `${row.scope}:${row.view}`;
      next.set(id, row.summary);
      if (seen.get(id) === row.summary || !catalog.has(row.view)) continue;
      const view = catalog.get(row.view);
      await enqueueRefresh(queue, catalog, {
        view: view.name,
        reason: 'event',
        triggerDetail: 'captured changes',
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
