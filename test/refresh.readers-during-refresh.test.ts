import { describe, expect, it } from 'vitest';
import { demoCatalog } from '../examples/demo/schema/catalog.js';
import { seedDemo } from '../examples/demo/seed/index.js';
import { createRefreshExecutor } from '../src/workers/refresh-executor.js';
import { demoCatalogWith } from './helpers/catalog.js';
import { useTestDatabase } from './helpers/database.js';
import { waitUntil } from './helpers/wait.js';

/** An MV: only REFRESH MATERIALIZED VIEW has a plain mode that blocks readers (table views never do). */
const VIEW = 'mv_kpi_dashboard';

/**
 * While a refresh is in progress (held mid-statement by a lock on a source table that the
 * test controls), a reader polls the view with a 200 ms lock_timeout: CONCURRENTLY lets it
 * through, a plain refresh makes it wait (and time out). That is why CONCURRENTLY is the default.
 */
describe('readers during a refresh', () => {
  const db = useTestDatabase();

  async function readWhileRefreshing(mode: 'auto' | 'plain') {
    const executor = createRefreshExecutor({
      sql: db.sql,
      catalog: demoCatalogWith({ [VIEW]: { lockTimeoutMs: 30_000 } }),
    });
    const blocker = await db.sql.reserve();
    await blocker`BEGIN`;
    await blocker`LOCK TABLE budget_lines IN ACCESS EXCLUSIVE MODE`;
    const refresh = executor.refresh({ view: VIEW, reason: 'manual', mode });
    // The refresh holds its lock on the view and waits for the source table.
    await waitUntil('the refresh to wait on the source lock', async () => {
      const [row] = await db.sql`
        SELECT count(*)::int AS waiting FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'REFRESH MATERIALIZED VIEW%'`;
      return row!.waiting > 0;
    });
    const results: { ok: boolean; code?: string }[] = [];
    for (let i = 0; i < 5; i++) {
      try {
        await db.sql.begin(async (tx) => {
          await tx`SET LOCAL lock_timeout = '200ms'`;
          await tx`SELECT count(*) FROM mv_kpi_dashboard WHERE budget_version_id = ${i + 1}`;
        });
        results.push({ ok: true });
      } catch (error) {
        results.push({ ok: false, code: (error as { code?: string }).code });
      }
    }
    await blocker`COMMIT`;
    blocker.release();
    const outcome = await refresh;
    return { results, outcome };
  }

  it('CONCURRENTLY never makes a reader wait; a plain refresh does', async () => {
    await seedDemo({ sql: db.sql, scale: 'small' });
    await createRefreshExecutor({ sql: db.sql, catalog: demoCatalog }).refresh({ view: VIEW, reason: 'manual' });

    const concurrent = await readWhileRefreshing('auto');
    expect(concurrent.outcome).toMatchObject({ status: 'success', mode: 'concurrent' });
    expect(concurrent.results.every((result) => result.ok)).toBe(true);

    const plain = await readWhileRefreshing('plain');
    expect(plain.outcome).toMatchObject({ status: 'success', mode: 'plain' });
    expect(plain.results.every((result) => !result.ok && result.code === '55P03')).toBe(true);
  });
});
