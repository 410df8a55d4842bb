import { describe, expect, it } from 'vitest';
import { recordDirtyKeys } from '../src/store/pending-requests.js';
import { demoCatalog } from '../examples/demo/schema/catalog.js';
import { seedDemo } from '../examples/demo/seed/index.js';
import { createRefreshExecutor } from '../src/workers/refresh-executor.js';
import { createWorker } from '../src/workers/refresh-worker.js';
import { useTestDatabase } from './helpers/database.js';
import { useTestQueue } from './helpers/queue-backend.js';
import { waitUntil } from './helpers/wait.js';

const VIEW = 'tournament_analytics_summary';

/** Keys recorded whose request never reached the queue are not left waiting forever. */
describe('waiting dirty keys', () => {
  const db = useTestDatabase();
  const backends = useTestQueue(db);

  it('a worker sweep requests a refresh for keys that wait without one', async () => {
    await seedDemo({ sql: db.sql, scale: 'small' });
    await createRefreshExecutor({ sql: db.sql, catalog: demoCatalog }).refresh({ view: VIEW, reason: 'manual' });
    // As if the producer recorded the key and then could not enqueue (Redis down): no job exists.
    await db.sql`UPDATE tournaments SET prize_pool = prize_pool + 7 WHERE id = 9`;
    await recordDirtyKeys(db.sql, demoCatalog.store, 'prize.paid', [{ view: VIEW, key: [9] }]);
    await db.sql`UPDATE mvfleet.mv_dirty_keys SET recorded_at = recorded_at - interval '5 seconds'`;

    const worker = createWorker({
      backend: backends.backend(),
      sql: db.sql,
      catalog: demoCatalog,
      orphanSweepIntervalMs: 1_000,
      waitingKeysRescueMs: 2_000,
      // The rescue's own path: the poll for recorded requests would find the key first.
      requestPollMs: 3_600_000,
    });
    try {
      await worker.ready();
      const [row] = await waitUntil('the waiting key to be recomputed', async () => {
        const rows = await db.sql<{ strategy: string; keys_refreshed: number }[]>`
          SELECT strategy, keys_refreshed FROM mvfleet.mv_refresh_log
          WHERE view_name = ${VIEW} AND status = 'success' AND trigger_detail = 'waiting dirty keys'`;
        return rows.length > 0 ? rows : undefined;
      }, { timeoutMs: 20_000, intervalMs: 100 });
      expect(row).toEqual({ strategy: 'targeted', keys_refreshed: 1 });
      const [{ n }] = await db.sql<[{ n: number }]>`SELECT count(*)::int AS n FROM mvfleet.mv_dirty_keys`;
      expect(n).toBe(0);
      const [stored] = await db.sql<[{ prize_pool_total: string; expected: string }]>`
        SELECT s.prize_pool_total::text, t.prize_pool::numeric(14, 2)::text AS expected
        FROM tournament_analytics_summary s JOIN tournaments t ON t.id = s.tournament_id WHERE t.id = 9`;
      expect(stored.prize_pool_total).toBe(stored.expected);
    } finally {
      await worker.close();
    }
  }, 40_000);
});
