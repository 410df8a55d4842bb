import type { Queryable } from '../core/db.js';
import type { EngineStore } from '../store/engine-schema.js';

/** What waits for a refresh of one view: changes recorded and not yet refreshed. */
export interface PendingKeysRow {
  view: string;
  /** Distinct keys: an event recorded twice for one key is one key to recompute. */
  pending_keys: number;
  /** Whole-view requests, schedule ticks aside (they wait for their jitter, not for a change). */
  pending_requests: number;
  /** Age of the oldest of those, in seconds: the view's true staleness. */
  oldest_pending_seconds: number;
}

/** Per view with anything waiting: pending keys, whole-view requests and the oldest one's age. */
export async function readPendingKeys(sql: Queryable, store: EngineStore): Promise<PendingKeysRow[]> {
  return sql<PendingKeysRow[]>`
    SELECT view_name AS view, count(DISTINCT key) FILTER (WHERE kind = 'key')::int AS pending_keys,
           count(*) FILTER (WHERE kind = 'request')::int AS pending_requests,
           GREATEST(0, extract(epoch FROM now() - min(at)))::float8 AS oldest_pending_seconds
    FROM (
      SELECT view_name, key, recorded_at AS at, 'key' AS kind FROM ${sql(store.dirtyKeys)}
      UNION ALL
      SELECT view_name, NULL, requested_at, 'request' FROM ${sql(store.pendingRequests)} WHERE reason <> 'schedule'
    ) AS waiting
    GROUP BY view_name`;
}
