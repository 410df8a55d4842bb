import type { Queryable } from '../core/db.js';
import type { EngineStore } from './engine-schema.js';
import type { KeyTuple } from '../catalog/event-keys.js';

/** One key an event touched in one keyed view. */
export interface DirtyKey {
  view: string;
  key: KeyTuple;
}

/**
 * Appends the keys an event touched to `mv_dirty_keys`, all in one statement (all or none).
 * Appends, not upserts: an upsert would wait on a key row that a refresh in flight is
 * draining; duplicates collapse when the refresh drains them.
 */
export async function recordDirtyKeys(sql: Queryable, store: EngineStore, event: string, keys: readonly DirtyKey[]): Promise<void> {
  if (keys.length === 0) return;
  const views = keys.map((entry) => entry.view);
  const json = keys.map((entry) => JSON.stringify(entry.key));
  await sql`
    INSERT INTO ${sql(store.dirtyKeys)} (view_name, key, event)
    SELECT view_name, key::jsonb, ${event} FROM unnest(${views}::text[], ${json}::text[]) AS k(view_name, key)`;
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

/** Whether a key of a view waits for a targeted refresh (reads serve such keys live). */
export async function isDirty(sql: Queryable, store: EngineStore, view: string, key: KeyTuple): Promise<boolean> {
  // Through text: a parameter PostgreSQL types as jsonb is JSON-encoded again by postgres.js,
  // which would compare the key with a JSON string and never match.
  const [row] = await sql<[{ dirty: boolean }]>`
    SELECT EXISTS (SELECT 1 FROM ${sql(store.dirtyKeys)} WHERE view_name = ${view} AND key = ${JSON.stringify(key)}::text::jsonb) AS dirty`;
  return row.dirty;
}
