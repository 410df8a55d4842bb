import { describe, expect, it } from 'vitest';
import { createProducer } from '../src/producers/producer.js';
import { createRefreshQueue } from '../src/queue/refresh-queue.js';
import { seedDemo } from '../examples/demo/seed/index.js';
import { createRefreshExecutor } from '../src/workers/refresh-executor.js';
import { createWorker } from '../src/workers/refresh-worker.js';
import { handleScheduleTick } from '../src/workers/schedule-tick.js';
import { demoCatalogWith } from './helpers/catalog.js';
import { useTestDatabase } from './helpers/database.js';
import { useTestQueue } from './helpers/queue-backend.js';
import { logRows } from './helpers/refresh-log.js';
import { waitUntil } from './helpers/wait.js';

const REVENUE = 'mv_revenue_by_project_month';
const QUARTER = 'mv_revenue_by_firm_quarter';
/** An MV: its event refresh is a full one, which covers a pending scheduled (whole-view) request. */
const KPI = 'mv_kpi_dashboard';

describe('coalescing event requests', () => {
  const db = useTestDatabase({ max: 12 });
  const backends = useTestQueue(db);

  it('1,000 invoice.paid events in one window cause at most two refreshes per view', async () => {
    await seedDemo({ sql: db.sql, scale: 'small' });
    // Long enough that every event surely falls in it on a loaded machine; the window's job is
    // then promoted rather than waited for.
    const windowMs = 60_000;
    const catalog = demoCatalogWith({ [REVENUE]: { coalesceWindowMs: windowMs } });
    const executor = createRefreshExecutor({ sql: db.sql, catalog });
    for (const view of catalog.views) await executor.refresh({ view: view.name, reason: 'manual' });
    const worker = createWorker({ backend: backends.backend(), sql: db.sql, catalog, concurrency: 4 });
    await worker.ready();
    const fleet = createProducer({ catalog, backend: backends.backend('producer'), sql: db.sql });
    // Events name the project and payment date of real paid invoices (the keys they touch).
    const invoices = await db.sql<{ firmId: number; projectId: number; paidOn: string }[]>`
      SELECT p.firm_id AS "firmId", i.project_id AS "projectId", to_char(i.paid_on, 'YYYY-MM-DD') AS "paidOn"
      FROM invoices i JOIN projects p ON p.id = i.project_id
      WHERE i.status = 'paid' AND i.paid_on IS NOT NULL ORDER BY i.id LIMIT 3`;
    expect(invoices).toHaveLength(3);

    const handles = [];
    const started = Date.now();
    for (let batch = 0; batch < 20; batch++) {
      handles.push(...(await Promise.all(Array.from({ length: 50 }, (_, i) => fleet.emit('invoice.paid', invoices[i % 3]!)))));
    }
    // The premise: all 1,000 events were emitted within one coalescing window.
    expect(Date.now() - started).toBeLessThan(windowMs);
    const queue = createRefreshQueue(backends.backend('producer'));
    await queue.promoteJobs();
    await queue.close();
    const last = handles.at(-1)!;
    await last.waitUntilFresh({ timeoutMs: 30_000 });
    // Every event is covered: the first event's refresh started after the last event too.
    const first = handles[0]!;
    const eventRows = (await logRows(db.sql, REVENUE)).filter((row) => row.reason === 'event');
    expect(eventRows.filter((row) => row.status === 'success').length).toBeGreaterThanOrEqual(1);
    expect(eventRows.filter((row) => row.status === 'success').length).toBeLessThanOrEqual(2);
    expect(eventRows.filter((row) => row.started_at < first.requestedAt)).toEqual([]);
    await waitUntil('the cascade to finish', async () => {
      const counts = await worker.executor.inFlight();
      const rows = await logRows(db.sql, QUARTER);
      return counts.length === 0 && rows.some((row) => row.reason === 'cascade' && row.status === 'success');
    });
    const cascaded = (await logRows(db.sql, QUARTER)).filter((row) => row.reason === 'cascade' && row.status === 'success');
    expect(cascaded.length).toBeLessThanOrEqual(2);
    await fleet.close();
    await worker.close();
  });

  it('an event does not wait behind a pending jittered scheduled refresh', async () => {
    const catalog = demoCatalogWith({ [KPI]: { coalesceWindowMs: 300 } });
    const producer = backends.backend('producer');
    const fleet = createProducer({ catalog, backend: producer, sql: db.sql });
    const { createRefreshQueue } = await import('../src/queue/refresh-queue.js');
    const queue = createRefreshQueue(producer);
    // A tick a minute ago drew a delay of ~10 minutes (the view's jitter, overridden here).
    const tickCatalog = demoCatalogWith({ [KPI]: { schedule: { kind: 'every', everyMs: 3_600_000, jitterMs: 600_000 } } });
    const tick = await handleScheduleTick({ data: { view: KPI } } as never, {
      queue,
      catalog: tickCatalog,
      random: () => 0.99,
      now: () => new Date(Date.now() - 60_000),
    });
    expect(tick.delayMs).toBeGreaterThan(590_000);

    const worker = createWorker({ backend: backends.backend(), sql: db.sql, catalog });
    await worker.ready();
    const [{ id: budgetVersionId }] = await db.sql<[{ id: number }]>`
      SELECT id FROM budget_versions WHERE deleted_at IS NULL ORDER BY id LIMIT 1`;
    const handle = await fleet.emit('budget_version.status_changed', { budgetVersionId, status: 'submitted' });
    const { [KPI]: result } = await handle.waitUntilFresh({ timeoutMs: 10_000 });
    expect(result!.status).toBe('success');
    const row = (await logRows(db.sql, KPI)).find((r) => r.status === 'success' && r.started_at >= handle.requestedAt)!;
    expect(row.reason).toBe('event');
    expect(row.started_at.getTime() - handle.requestedAt.getTime()).toBeLessThan(5_000);

    // The scheduled refresh is still pending; when it comes due it finds its request covered.
    const scheduled = await queue.getJob(tick.jobId);
    expect(await scheduled!.getState()).toBe('delayed');
    await scheduled!.promote();
    const skipped = await waitUntil('the scheduled refresh to finish', async () =>
      (await logRows(db.sql, KPI)).find((r) => r.job_id === tick.jobId && r.status !== 'running'),
    );
    expect(skipped.status).toBe('skipped');
    await fleet.close();
    await queue.close();
    await worker.close();
  });
});
