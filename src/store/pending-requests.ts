import type { Queryable } from '../core/db.js';
import { toDate } from '../core/pg-values.js';
import type { DirtyKey } from './dirty-keys.js';
import { quoteQualified, type EngineStore } from './engine-schema.js';
import type { RefreshReason } from './refresh-log.js';

/**
 * Refresh requests live in PostgreSQL; the queue only wakes workers and coalesces. A
 * whole-view request is a row of `mv_pending_requests` (a key request is a row of
 * `mv_dirty_keys`), written before the request is acknowledged and deleted by the refresh
 * that covers it, inside that refresh's transaction. A request whose job the queue lost (a
 * worker killed, Redis restarted empty or failed over, a job failed for good) is still here,
 * and the workers' sweep asks for it again.
 */

/** A whole-view request of one view. */
export interface PendingRequest {
  view: string;
  reason: RefreshReason;
  triggerDetail: string | null;
  /** When a worker should have taken it, from now: the view's coalescing window, a schedule's jitter. */
  dueInMs: number;
}

/**
 * Records requests and dirty keys in one statement (all or none). `event` names what touched
 * the keys. Appends only: a refresh in flight never makes a producer wait. A whole-view request
 * that a waiting one already covers is not written (engine migration 3 says when).
 * @returns per request, in order, whether it was written (false: it joined a waiting one,
 * whose job, or the workers' sweep, will refresh the view).
 */
export async function recordRequests(
  sql: Queryable,
  store: EngineStore,
  work: { requests: readonly PendingRequest[]; keys?: readonly DirtyKey[]; event?: string | null },
): Promise<boolean[]> {
  const keys = work.keys ?? [];
  if (work.requests.length === 0 && keys.length === 0) return [];
  const insertKeys = sql`
    INSERT INTO ${sql(store.dirtyKeys)} (view_name, key, event)
    SELECT view_name, key::jsonb, ${work.event ?? null}::text
    FROM unnest(${keys.map((entry) => entry.view)}::text[], ${keys.map((entry) => JSON.stringify(entry.key))}::text[]) AS k(view_name, key)`;
  if (work.requests.length === 0) {
    await insertKeys;
    return [];
  }
  if (keys.length === 0 && work.requests.length === 1) {
    // The common case (one view's request, say an event for an MV): the join function alone,
    // a statement that costs little more than a round trip.
    const [request] = work.requests as [PendingRequest];
    const [row] = await sql<[{ written: boolean }]>`
      SELECT ${sql(store.requestViewRefresh)}(${request.view}, ${request.reason}, ${request.triggerDetail}, ${request.dueInMs}::float8) AS written`;
    return [row.written];
  }
  const [row] = await sql<[{ written: boolean[] }]>`
    WITH keys AS (${insertKeys})
    SELECT array_agg(written ORDER BY ord) AS written
    FROM unnest(${work.requests.map((r) => r.view)}::text[], ${work.requests.map((r) => r.reason)}::text[],
                ${work.requests.map((r) => r.triggerDetail ?? '')}::text[], ${work.requests.map((r) => r.dueInMs)}::float8[])
         WITH ORDINALITY AS r(view_name, reason, trigger_detail_or_empty, due_in_ms, ord)
    CROSS JOIN LATERAL ${sql(store.requestViewRefresh)}(view_name, reason, NULLIF(trigger_detail_or_empty, ''), due_in_ms) AS written`;
  return row.written;
}

/** The oldest overdue request of a view: one the queue should have delivered `graceMs` ago. */
export interface OverdueRequest {
  view: string;
  reason: RefreshReason;
  triggerDetail: string | null;
  requestedAt: Date;
}

/** Views whose whole-view requests are overdue by more than `graceMs`, with the oldest request of each. */
export async function overdueRequests(sql: Queryable, store: EngineStore, graceMs: number): Promise<OverdueRequest[]> {
  const rows = await sql<{ view_name: string; reason: RefreshReason; trigger_detail: string | null; requested_at: Date | string }[]>`
    SELECT DISTINCT ON (view_name) view_name, reason, trigger_detail, requested_at
    FROM ${sql(store.pendingRequests)}
    WHERE due_at < clock_timestamp() - make_interval(secs => ${graceMs / 1000})
    ORDER BY view_name, requested_at`;
  return rows.map((row) => ({
    view: row.view_name,
    reason: row.reason,
    triggerDetail: row.trigger_detail,
    requestedAt: toDate(row.requested_at)!,
  }));
}

/**
 * Ends the requests a refresh failed to cover for good (its retries ran out, or its failure is
 * permanent): exactly those its last attempt drained. Requests it could not see stay pending,
 * and the rescue asks for them again.
 */
export async function dropDrainedRequests(sql: Queryable, store: EngineStore, ids: readonly number[]): Promise<number> {
  if (ids.length === 0) return 0;
  const rows = await sql`DELETE FROM ${sql(store.pendingRequests)} WHERE id = ANY(${ids.map(String)}::bigint[]) RETURNING id`;
  return rows.length;
}

/**
 * Appends the keys an event touched (duplicates collapse when a refresh drains them): the
 * key-only form of {@link recordRequests}.
 */
export async function recordDirtyKeys(sql: Queryable, store: EngineStore, event: string, keys: readonly DirtyKey[]): Promise<void> {
  await recordRequests(sql, store, { requests: [], keys, event });
}

/**
 * Runs one statement with one parameter on the caller's transaction: a postgres.js
 * transaction (`sql.begin(tx => …)`) or a Drizzle one (`db.transaction(tx => …)`).
 */
export type RunInTransaction = (text: string, parameter: string) => Promise<unknown>;

/**
 * Records requests and keys inside the app's own transaction, so they commit or roll back with
 * its writes. Plain appends: the coalescing of {@link recordRequests} would hold the view's
 * fence until the app commits. Nothing wakes the fleet here (the app has not committed):
 * the workers' poll for recorded requests finds them within a fraction of a second.
 */
export async function recordRequestsInTransaction(
  run: RunInTransaction,
  store: EngineStore,
  work: { requests: readonly PendingRequest[]; keys?: readonly DirtyKey[]; event?: string | null },
): Promise<void> {
  if (work.requests.length === 0 && !work.keys?.length) return;
  const doc = JSON.stringify({ event: work.event ?? null, keys: work.keys ?? [], requests: work.requests });
  await run(
    `WITH input AS (SELECT $1::jsonb AS doc),
     keys AS (
       INSERT INTO ${quoteQualified(store.dirtyKeys)} (view_name, key, event)
       SELECT k->>'view', k->'key', input.doc->>'event' FROM input, jsonb_array_elements(input.doc->'keys') AS k
     )
     INSERT INTO ${quoteQualified(store.pendingRequests)} (view_name, reason, trigger_detail, due_at)
     SELECT r->>'view', r->>'reason', r->>'triggerDetail', clock_timestamp() + make_interval(secs => (r->>'dueInMs')::float8 / 1000)
     FROM input, jsonb_array_elements(input.doc->'requests') AS r`,
    doc,
  );
}
