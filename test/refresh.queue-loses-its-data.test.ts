import { describe, expect, it } from 'vitest';
import { createProducer } from '../src/producers/producer.js';
import { createRefreshQueue } from '../src/queue/refresh-queue.js';
import { createWorker } from '../src/workers/refresh-worker.js';
import { createRefreshExecutor } from '../src/workers/refresh-executor.js';
import { demoCatalog } from '../examples/demo/schema/catalog.js';
import { seedDemo } from '../examples/demo/seed/index.js';
import { useTestDatabase } from './helpers/database.js';
import { useTestQueue } from './helpers/queue-backend.js';
import { waitUntil } from './helpers/wait.js';

const MV = 'referensi_ahsp_stats';
const KEYED = 'tournament_analytics_summary';

/**
 * Requests live in PostgreSQL; the queue only wakes workers. When the queue loses every job
 * (Redis restarted without persistence, a failover, an eviction), the fleet still finds the
 * acknowledged requests and refreshes them within seconds, with its default settings.
 */
describe('the queue loses its data', () => {
  const db = useTestDatabase();
  const backends = useTestQueue(db);

  it('acknowledged requests for an MV, a keyed view and a cascade are refreshed from PostgreSQL', async () => {
    await seedDemo({ sql: db.sql, scale: 'small' });
    const executor = createRefreshExecutor({ sql: db.sql, catalog: demoCatalog });
    for (const view of demoCatalog.views) await executor.refresh({ view: view.name, reason: 'manual' });

    // Acknowledged while no worker runs: an event for an MV, one with a key, a manual refresh
    // of the MV the quarterly roll-up is built on.
    const producer = createProducer({ catalog: demoCatalog, backend: backends.backend('producer'), sql: db.sql });
    await db.sql`UPDATE tournaments SET prize_pool = prize_pool + 11 WHERE id = 4`;
    const acknowledged = [
      await producer.emit('import.finished', { sumber: 'test' }),
      await producer.emit('prize.paid', { tournamentId: 4 }),
      await producer.refresh('mv_revenue_by_project_month'),
    ];
    await producer.close();
    const [{ pending }] = await db.sql<[{ pending: number }]>`SELECT count(*)::int AS pending FROM mvfleet.mv_pending_requests`;
    expect(pending).toBe(2);

    // The queue comes back empty.
    const queue = createRefreshQueue(backends.backend('producer'));
    await queue.obliterate({ force: true });
    expect(await queue.count()).toBe(0);
    await queue.close();

    const worker = createWorker({ backend: backends.backend(), sql: db.sql, catalog: demoCatalog });
    try {
      await worker.ready();
      for (const handle of acknowledged) {
        for (const view of handle.views) {
          await waitUntil(`a refresh of ${view} that started after its request`, async () => {
            const [row] = await db.sql<{ id: number }[]>`
              SELECT id FROM mvfleet.mv_refresh_log
              WHERE view_name = ${view} AND status = 'success' AND started_at >= ${handle.requestedAt.toISOString()}::timestamptz`;
            return row;
          }, { timeoutMs: 20_000, intervalMs: 100 });
        }
      }
      expect(acknowledged.flatMap((handle) => handle.views)).toEqual(
        expect.arrayContaining([MV, KEYED, 'mv_revenue_by_project_month', 'mv_revenue_by_firm_quarter']),
      );
      await waitUntil('every request drained', async () => {
        const [{ left }] = await db.sql<[{ left: number }]>`
          SELECT (SELECT count(*) FROM mvfleet.mv_pending_requests) + (SELECT count(*) FROM mvfleet.mv_dirty_keys) AS left`;
        return Number(left) === 0 || undefined;
      }, { timeoutMs: 20_000, intervalMs: 100 });
      const [stored] = await db.sql<[{ total: string; expected: string }]>`
        SELECT s.prize_pool_total::text AS total, t.prize_pool::numeric(14, 2)::text AS expected
        FROM tournament_analytics_summary s JOIN tournaments t ON t.id = s.tournament_id WHERE t.id = 4`;
      expect(stored.total).toBe(stored.expected);
    } finally {
      await worker.close();
    }
  }, 90_000);
});
