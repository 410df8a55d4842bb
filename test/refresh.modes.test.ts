import { describe, expect, it } from 'vitest';
import { demoCatalog } from '../examples/demo/schema/catalog.js';
import { seedDemo } from '../examples/demo/seed/index.js';
import { PermanentRefreshError } from '../src/workers/refresh-errors.js';
import { createRefreshExecutor } from '../src/workers/refresh-executor.js';
import { useTestDatabase } from './helpers/database.js';
import { logRows } from './helpers/refresh-log.js';

describe('refresh mode', () => {
  const db = useTestDatabase();

  it('refreshes an unpopulated view plainly, then concurrently, logging both', async () => {
    await seedDemo({ sql: db.sql, scale: 'small' });
    const executor = createRefreshExecutor({ sql: db.sql, catalog: demoCatalog, workerId: 'test' });
    const first = await executor.refresh({ view: 'mv_kpi_dashboard', reason: 'manual' });
    const second = await executor.refresh({ view: 'mv_kpi_dashboard', reason: 'manual' });
    const forcedPlain = await executor.refresh({ view: 'mv_kpi_dashboard', reason: 'manual', mode: 'plain' });
    expect([first, second, forcedPlain].map((outcome) => outcome.status === 'success' && outcome.mode)).toEqual([
      'plain',
      'concurrent',
      'plain',
    ]);
    const rows = await logRows(db.sql, 'mv_kpi_dashboard');
    expect(rows.map((row) => [row.status, row.mode])).toEqual([
      ['success', 'plain'],
      ['success', 'concurrent'],
      ['success', 'plain'],
    ]);
    const [{ count }] = await db.sql<[{ count: number }]>`SELECT count(*)::int AS count FROM mv_kpi_dashboard`;
    expect(count).toBeGreaterThan(0);
    expect(rows.map((row) => row.rows_after)).toEqual([count, count, count]);
  });

  it('fails a forced concurrent refresh without a unique index at once, as a permanent error', async () => {
    const executor = createRefreshExecutor({ sql: db.sql, catalog: demoCatalog });
    await executor.refresh({ view: 'mv_budget_consolidation', reason: 'manual' });
    await db.sql`DROP INDEX mv_budget_consolidation_key`;
    const auto = await executor.refresh({ view: 'mv_budget_consolidation', reason: 'manual' });
    expect(auto).toMatchObject({ status: 'success', mode: 'plain' });
    await expect(executor.refresh({ view: 'mv_budget_consolidation', reason: 'manual', mode: 'concurrent' })).rejects.toThrow(
      PermanentRefreshError,
    );
    const [last] = (await logRows(db.sql, 'mv_budget_consolidation')).slice(-1);
    expect(last).toMatchObject({ status: 'failed', error_code: '55000' });
    expect(last!.error_message).toContain('no usable unique index');
  });

  it('rejects an unknown view permanently, before touching the database', async () => {
    const executor = createRefreshExecutor({ sql: db.sql, catalog: demoCatalog });
    const before = (await logRows(db.sql)).length;
    await expect(executor.refresh({ view: 'x"; DROP TABLE tournaments; --', reason: 'manual' })).rejects.toThrow(
      /unknown view/,
    );
    expect((await logRows(db.sql)).length).toBe(before);
    const [exists] = await db.sql`SELECT to_regclass('tournaments') IS NOT NULL AS ok`;
    expect(exists!.ok).toBe(true);
  });
});
