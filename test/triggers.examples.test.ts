import { describe, expect, it } from 'vitest';
import { createDemoProducer } from '../examples/demo/producer.js';
import { importAhsp } from '../examples/demo/app/ahsp-import.js';
import { payInvoice } from '../examples/demo/app/invoice-payment.js';
import { demoCatalog } from '../examples/demo/schema/catalog.js';
import { seedDemo } from '../examples/demo/seed/index.js';
import { createRefreshExecutor } from '../src/workers/refresh-executor.js';
import { createWorker } from '../src/workers/refresh-worker.js';
import { useTestDatabase } from './helpers/database.js';
import { useTestQueue } from './helpers/queue-backend.js';
import { logRows } from './helpers/refresh-log.js';
import { viewAndReference } from './helpers/reference-views.js';

describe('the source applications, event-driven', () => {
  const db = useTestDatabase();
  const backends = useTestQueue(db);

  it('the AHSP import returns without waiting for the refresh; the view reflects it once a worker ran', async () => {
    await seedDemo({ sql: db.sql, scale: 'small' });
    const executor = createRefreshExecutor({ sql: db.sql, catalog: demoCatalog });
    for (const view of demoCatalog.views) await executor.refresh({ view: view.name, reason: 'manual' });
    const fleet = createDemoProducer({ backend: backends.backend('producer'), sql: db.sql });

    // No worker is running: the import can only return if it does not wait for a refresh.
    const imported = await importAhsp(
      { sql: db.sql, fleet },
      {
        sumber: 'SNI 2026',
        sourceFile: 'ahsp-2026.xlsx',
        rows: [
          {
            kodeAhsp: 'X.01',
            namaAhsp: 'Galian tanah',
            items: [
              { kategori: 'TK', kodeItem: 'L.01', uraianItem: 'Pekerja', satuanItem: 'OH', koefisien: '0.75' },
              { kategori: 'ALT', kodeItem: 'E.01', uraianItem: 'Excavator', satuanItem: null, koefisien: '0' },
            ],
          },
        ],
      },
    );
    expect(imported).toMatchObject({ analyses: 1, items: 2 });
    const stale = await db.sql`SELECT * FROM referensi_ahsp_stats WHERE kode_ahsp = 'X.01'`;
    expect(stale).toHaveLength(0);

    const worker = createWorker({ backend: backends.backend(), sql: db.sql, catalog: demoCatalog });
    await worker.ready();
    const paid = await payInvoice(
      { sql: db.sql, fleet },
      { invoiceId: (await db.sql<[{ id: number }]>`SELECT id FROM invoices WHERE status = 'sent' ORDER BY id LIMIT 1`)[0].id, amount: '1234.50', paidOn: '2026-10-15' },
    );
    expect(paid.firmId).toBeGreaterThan(0);
    await imported.refresh.waitUntilFresh({ timeoutMs: 15_000 });
    const [fresh] = await db.sql`SELECT rincian_total, tk_count, alt_count, zero_coef_count, missing_unit_count FROM referensi_ahsp_stats WHERE kode_ahsp = 'X.01'`;
    expect(fresh).toEqual({ rincian_total: 2, tk_count: 1, alt_count: 1, zero_coef_count: 1, missing_unit_count: 1 });
    const ahspRows = await logRows(db.sql, 'referensi_ahsp_stats');
    expect(ahspRows.some((row) => row.reason === 'event' && row.trigger_detail === 'import.finished' && row.status === 'success')).toBe(true);

    // The invoice payment reached the revenue view and, by cascade, the quarterly roll-up.
    expect(paid.refresh.views).toEqual(['mv_revenue_by_project_month', 'mv_revenue_by_firm_quarter']);
    await paid.refresh.waitUntilFresh({ timeoutMs: 15_000 });
    for (const name of ['mv_revenue_by_project_month', 'mv_revenue_by_firm_quarter']) {
      const { actual, expected } = await viewAndReference(db.sql, demoCatalog.get(name));
      expect(actual, name).toEqual(expected);
    }
    await worker.close();
    await fleet.close();
  });
});
