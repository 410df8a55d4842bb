import type { Queryable } from '../core/db.js';
import { toDate } from '../core/pg-values.js';
import type { EngineStore } from '../store/engine-schema.js';

/** One finished attempt, for the duration trend. */
export interface DurationPoint {
  started_at: Date;
  duration_ms: number;
  status: 'success' | 'failed';
}

/** The last `limit` finished attempts of each view, oldest first. */
export async function readRecentDurations(sql: Queryable, store: EngineStore, views: readonly string[], limit: number): Promise<Map<string, DurationPoint[]>> {
  const rows = await sql<(Omit<DurationPoint, 'started_at'> & { view: string; started_at: Date | string })[]>`
    SELECT v.view, t.started_at, t.duration_ms, t.status
    FROM unnest(${views as string[]}::text[]) AS v(view)
    CROSS JOIN LATERAL (
      SELECT started_at, duration_ms, status FROM ${sql(store.refreshLog)}
      WHERE view_name = v.view AND status IN ('success', 'failed') AND duration_ms IS NOT NULL
      ORDER BY started_at DESC LIMIT ${limit}
    ) t
    ORDER BY v.view, t.started_at`;
  const byView = new Map<string, DurationPoint[]>(views.map((view) => [view, []]));
  for (const { view, started_at, ...point } of rows) byView.get(view)?.push({ ...point, started_at: toDate(started_at) });
  return byView;
}
