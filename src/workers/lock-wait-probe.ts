import { setTimeout as delay } from 'node:timers/promises';
import type { Queryable } from '../core/db.js';

/**
 * Measures how long a backend waits on heavyweight locks at the start of its statement.
 * PostgreSQL 15 keeps no per-statement lock-wait time and LOCK TABLE cannot lock a
 * materialized view ahead of REFRESH, so this samples `pg_stat_activity` from another
 * connection until the statement is seen running without a lock wait. Resolution: `intervalMs`.
 */
export function probeLockWait(sql: Queryable, pid: number, options: { intervalMs?: number } = {}) {
  const intervalMs = options.intervalMs ?? 10;
  const controller = new AbortController();
  let waitedMs = 0;
  const done = (async () => {
    let last = performance.now();
    while (!controller.signal.aborted) {
      const [row] = await sql<{ state: string | null; wait_event_type: string | null }[]>`
        SELECT state, wait_event_type FROM pg_stat_activity WHERE pid = ${pid}`;
      const now = performance.now();
      if (!row) break;
      if (row.wait_event_type === 'Lock') waitedMs += now - last;
      else if (row.state === 'active') break; // running past its locks
      last = now;
      await delay(intervalMs, undefined, { signal: controller.signal }).catch(() => {});
    }
  })().catch(() => {});
  return {
    /** Stops sampling and returns the lock wait observed, in whole milliseconds. */
    async stop(): Promise<number> {
      controller.abort();
      await done;
      return Math.round(waitedMs);
    },
  };
}
