import type { Queryable } from '../core/db.js';
import type { EngineStore } from '../store/engine-schema.js';

/** Keys of one keyed view that events recorded and no refresh has drained yet. */
export interface PendingKeysRow {
  view: string;
  /** Distinct keys: an event recorded twice for one key is one key to recompute. */
  pending_keys: number;
}

/** Distinct pending keys per view that has any in `mv_dirty_keys`. */
export async function readPendingKeys(sql: Queryable, store: EngineStore): Promise<PendingKeysRow[]> {
  return sql<PendingKeysRow[]>`
    SELECT view_name AS view, count(DISTINCT key)::int AS pending_keys
    FROM ${sql(store.dirtyKeys)}
    GROUP BY view_name`;
}
