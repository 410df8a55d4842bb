import type { Queryable } from '../core/db.js';
import type { EngineStore } from './engine-schema.js';
import type { KeyTuple } from '../catalog/event-keys.js';

/** One key an event touched in one keyed view. */
export interface DirtyKey {
  view: string;
  key: KeyTuple;
}

/**
 * Views with keys recorded more than `olderThanMs` ago and still waiting: their refresh
 * request was lost (the producer failed to enqueue after recording, a queue lost the job,
 * PostgreSQL lost a refresh's commit in a crash). The worker sweep requests them again.
 */
export async function viewsWithWaitingKeys(sql: Queryable, store: EngineStore, olderThanMs: number): Promise<string[]> {
  const rows = await sql<{ view_name: string }[]>`
    SELECT DISTINCT view_name FROM ${sql(store.dirtyKeys)}
    WHERE recorded_at < clock_timestamp() - make_interval(secs => ${olderThanMs / 1000})`;
  return rows.map((row) => row.view_name);
}

/**
 * The key and every partial key that matches it (`[7, "2026-03-01"]`: also `[7, null]` and
 * `[null, "2026-03-01"]`), as recorded in `mv_dirty_keys`.
 */
function patternsOf(key: KeyTuple): string[] {
  const patterns: string[] = [];
  // Each bit of `mask` keeps one value; at least one value is kept.
  for (let mask = (1 << key.length) - 1; mask > 0; mask -= 1) {
    patterns.push(JSON.stringify(key.map((value, index) => (mask & (1 << index) ? value : null))));
  }
  return patterns;
}

/** Whether a key of a view waits for a targeted refresh, itself or through a partial key (reads serve such keys live). */
export async function isDirty(sql: Queryable, store: EngineStore, view: string, key: KeyTuple): Promise<boolean> {
  // Through text: a parameter PostgreSQL types as jsonb is JSON-encoded again by postgres.js,
  // which would compare the key with a JSON string and never match.
  const [row] = await sql<[{ dirty: boolean }]>`
    SELECT EXISTS (SELECT 1 FROM ${sql(store.dirtyKeys)} WHERE view_name = ${view} AND key = ANY(${patternsOf(key)}::text[]::jsonb[])) AS dirty`;
  return row.dirty;
}
