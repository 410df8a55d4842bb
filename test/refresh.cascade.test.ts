import { describe, expect, it } from 'vitest';
import { createRefreshQueue, enqueueRefresh } from '../src/queue/refresh-queue.js';
import { demoCatalog } from '../examples/demo/schema/catalog.js';
import { seedDemo } from '../examples/demo/seed/index.js';
import { directDependants } from '../src/workers/cascade.js';
import { createRefreshExecutor } from '../src/workers/refresh-executor.js';
import { createWorker } from '../src/workers/refresh-worker.js';
import { useTestDatabase } from './helpers/database.js';
import { useTestQueue } from './helpers/queue-backend.js';
import { logRows } from './helpers/refresh-log.js';
import { waitUntil } from './helpers/wait.js';

describe('cascade', () => {
  const db = useTestDatabase();
  const backends = useTestQueue(db);

  it('refreshes mv_revenue_by_firm_quarter after mv_revenue_by_project_month', async () => {
    await seedDemo({ sql: db.sql, scale: 'small' });
    const executor = createRefreshExecutor({ sql: db.sql, catalog: demoCatalog });
    for (const view of demoCatalog.views) await executor.refresh({ view: view.name, reason: 'manual' });
    await db.sql`UPDATE invoices SET paid_amount = paid_amount + 100 WHERE status = 'paid'`;

    const worker = createWorker({ backend: backends.backend(), sql: db.sql, catalog: demoCatalog });
    await worker.ready();
    const queue = createRefreshQueue(backends.backend('producer'));
    await enqueueRefresh(queue, demoCatalog, {
      view: 'mv_revenue_by_project_month',
      reason: 'event',
      triggerDetail: 'invoice.paid',
      requestedAt: new Date().toISOString(),
    });

    const downstream = await waitUntil('the cascaded refresh', async () =>
      (await logRows(db.sql, 'mv_revenue_by_firm_quarter')).find((row) => row.reason === 'cascade' && row.status === 'success'),
    );
    const upstream = (await logRows(db.sql, 'mv_revenue_by_project_month')).find((row) => row.reason === 'event')!;
    expect(upstream.status).toBe('success');
    expect(downstream.trigger_detail).toBe('mv_revenue_by_project_month');
    expect(downstream.started_at.getTime()).toBeGreaterThanOrEqual(upstream.finished_at!.getTime());
    // The roll-up reflects the change that reached the monthly view.
    const [sums] = await db.sql`
      SELECT (SELECT sum(total_revenue) FROM mv_revenue_by_firm_quarter) AS quarter,
             (SELECT sum(total_revenue) FROM mv_revenue_by_project_month) AS month`;
    expect(sums!.quarter).toBe(sums!.month);
    await worker.close();
    await queue.close();
  });

  it('finds views built on a view through pg_depend, also through plain views', async () => {
    await db.sql`CREATE VIEW revenue_plain AS SELECT firm_id, month, total_revenue FROM mv_revenue_by_project_month`;
    await db.sql`CREATE MATERIALIZED VIEW revenue_by_firm_extra AS SELECT firm_id, sum(total_revenue) AS revenue FROM revenue_plain GROUP BY firm_id`;
    const { findDirectDependentMaterializedViews } = await import('../src/migrate/view-dependencies.js');
    expect(await findDirectDependentMaterializedViews(db.sql, 'mv_revenue_by_project_month')).toEqual([
      'mv_revenue_by_firm_quarter',
      'revenue_by_firm_extra',
    ]);
    // Only catalog views are refreshed by the fleet.
    expect(await directDependants(db.sql, demoCatalog, 'mv_revenue_by_project_month')).toEqual(['mv_revenue_by_firm_quarter']);
    expect(await directDependants(db.sql, demoCatalog, 'mv_revenue_by_firm_quarter')).toEqual([]);
  });
});
