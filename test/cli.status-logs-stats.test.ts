import { describe, expect, it } from 'vitest';
import { createPostgresQueueBackend } from '../src/queue/queue-backend.js';
import { createRefreshQueue } from '../src/queue/refresh-queue.js';
import { demoCatalog } from '../examples/demo/schema/catalog.js';
import { createScheduler } from '../src/workers/scheduler.js';
import { seedDemo } from '../examples/demo/seed/index.js';
import { createRefreshExecutor } from '../src/workers/refresh-executor.js';
import { demoCatalogWith } from './helpers/catalog.js';
import { runCli } from './helpers/cli.js';
import { useTestDatabase } from './helpers/database.js';
import { logRows } from './helpers/refresh-log.js';

describe('mvfleet status, logs and stats', () => {
  const db = useTestDatabase();

  it('report what the refresh log holds', async () => {
    await seedDemo({ sql: db.sql, scale: 'small' });
    const executor = createRefreshExecutor({ sql: db.sql, catalog: demoCatalog, workerId: 'cli-test' });
    await executor.refresh({ view: 'mv_kpi_dashboard', reason: 'manual' });
    await executor.refresh({ view: 'mv_kpi_dashboard', reason: 'manual' });
    // Two failures in a row on another view: a lock held elsewhere makes them time out.
    const holder = await db.sql.reserve();
    await holder`BEGIN`;
    await holder`LOCK TABLE budget_lines IN ACCESS EXCLUSIVE MODE`;
    const impatient = createRefreshExecutor({ sql: db.sql, catalog: demoCatalogWith({ mv_budget_consolidation: { lockTimeoutMs: 50 } }) });
    for (let i = 0; i < 2; i++) {
      await expect(impatient.refresh({ view: 'mv_budget_consolidation', reason: 'manual' })).rejects.toThrow(/lock timeout/);
    }
    await holder`ROLLBACK`;
    holder.release();

    // Schedules exist in the queue (here the PostgreSQL queue backend of the same database).
    const backend = createPostgresQueueBackend({ url: db.url });
    const queue = createRefreshQueue(backend);
    await createScheduler({ queue, backend, catalog: demoCatalog }).sync();
    await queue.close();

    const env = { DATABASE_URL: db.url };
    const status = JSON.parse((await runCli(['status', '--json'], env)).stdout) as Record<string, unknown>[];
    for (const entry of status) {
      const scheduled = demoCatalog.get(String(entry.view)).schedule !== null;
      expect(entry.next_run_at === null, String(entry.view)).toBe(!scheduled);
    }
    expect(status.map((s) => s.view)).toEqual(demoCatalog.views.map((v) => v.name));
    for (const entry of status) {
      expect(Object.keys(entry)).toEqual(
        expect.arrayContaining(['view', 'populated', 'rows', 'size_bytes', 'last_refresh_at', 'as_of', 'age_seconds',
          'last_status', 'mode', 'next_run_at', 'stale', 'alerts']),
      );
    }
    const kpi = status.find((s) => s.view === 'mv_kpi_dashboard')!;
    const kpiRows = (await logRows(db.sql, 'mv_kpi_dashboard')).filter((row) => row.status === 'success');
    const last = kpiRows.at(-1)!;
    const [{ count }] = await db.sql<[{ count: number }]>`SELECT count(*)::int AS count FROM mv_kpi_dashboard`;
    expect(kpi).toMatchObject({
      populated: true,
      rows: count,
      as_of: last.started_at.toISOString(),
      last_refresh_at: last.finished_at!.toISOString(),
      last_status: 'success',
      mode: 'concurrent',
      stale: false,
      alerts: [],
    });
    const budget = status.find((s) => s.view === 'mv_budget_consolidation')!;
    expect(budget).toMatchObject({ populated: false, stale: true, last_status: 'failed', as_of: null });
    expect(budget.alerts).toEqual(expect.arrayContaining(['never refreshed', '2 consecutive failures']));

    const logs = JSON.parse((await runCli(['logs', '--view', 'mv_budget_consolidation', '--limit', '1', '--json'], env)).stdout);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ view_name: 'mv_budget_consolidation', status: 'failed', error_code: '55P03' });

    const stats = JSON.parse((await runCli(['stats', '--days', '7', '--json'], env)).stdout);
    const kpiStats = stats.views.find((v: { view: string }) => v.view === 'mv_kpi_dashboard');
    const durations = kpiRows.map((row) => row.duration_ms!);
    expect(kpiStats).toMatchObject({ successes: 2, failures: 0, success_rate: 1 });
    expect(kpiStats.avg_duration_ms).toBe(Math.round(durations.reduce((a, b) => a + b, 0) / durations.length));
    const budgetStats = stats.views.find((v: { view: string }) => v.view === 'mv_budget_consolidation');
    expect(budgetStats).toMatchObject({ successes: 0, failures: 2, success_rate: 0 });
    expect(budgetStats.recent_failures).toHaveLength(2);

    const table = await runCli(['status'], env);
    expect(table.stdout).toMatch(/mv_budget_consolidation\s+no\s+-/);
    expect(table.stdout).toContain('2 consecutive failures');
  });
});
