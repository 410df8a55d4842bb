import { describe, expect, it } from 'vitest';
import type { Queryable } from '../src/core/db.js';
import { migrate } from '../src/migrate/migrate.js';
import { createRefreshQueue } from '../src/queue/refresh-queue.js';
import { createRefreshExecutor } from '../src/workers/refresh-executor.js';
import { demoCatalog } from '../examples/demo/schema/catalog.js';
import { useTestDatabase } from './helpers/database.js';
import { killWorker, useChildProcesses } from './helpers/processes.js';
import { useTestQueue } from './helpers/queue-backend.js';
import { viewAndReference } from './helpers/reference-views.js';
import { waitUntil } from './helpers/wait.js';
import { startSeededFleet } from './helpers/worker-fleet.js';

/** The views the example keeps by capture, and the one built on the revenue view. */
const CAPTURED = ['tournament_analytics_summary', 'mv_revenue_by_project_month', 'mv_revenue_by_firm_quarter', 'referensi_ahsp_stats'];

type Write = (sql: Queryable, pick: (n: number) => number) => Promise<unknown>;

/** Plain SQL on the sources: inserts, updates that move rows between keys, deletes. No event anywhere. */
const writes: Write[] = [
  (sql, pick) => sql`INSERT INTO matches (tournament_id, round, state, started_at, completed_at)
                     VALUES (${1 + pick(100)}, 9, 'completed', now() - interval '40 minutes', now())`,
  // A match moves to another tournament: both tournaments change.
  (sql, pick) => sql`UPDATE matches SET tournament_id = ${1 + pick(100)} WHERE id = (SELECT id FROM matches ORDER BY id OFFSET ${pick(500)} LIMIT 1)`,
  (sql, pick) => sql`DELETE FROM registrations WHERE id = (SELECT id FROM registrations ORDER BY id OFFSET ${pick(500)} LIMIT 1)`,
  (sql, pick) => sql`UPDATE prize_transactions SET amount = amount + 1, status = 'completed'
                     WHERE id = (SELECT id FROM prize_transactions ORDER BY id OFFSET ${pick(50)} LIMIT 1)`,
  (sql, pick) => sql`UPDATE tournaments SET status = 'completed', updated_at = now() WHERE id = ${1 + pick(100)}`,
  (sql, pick) => sql`
    INSERT INTO invoices (project_id, invoice_number, status, issued_on, total_amount, paid_amount, paid_on)
    SELECT id, ${`C-${pick(1e9)}`}, 'paid', DATE '2026-03-15', 500, ${100 + pick(900)}, DATE '2026-03-15'
    FROM projects ORDER BY id OFFSET ${pick(24)} LIMIT 1`,
  // A payment moves to another month: both (project, month) keys change.
  (sql, pick) => sql`UPDATE invoices SET paid_on = (paid_on + ${1 + pick(90)} * interval '1 day')::date
                     WHERE id = (SELECT id FROM invoices WHERE status = 'paid' AND paid_on IS NOT NULL ORDER BY id OFFSET ${pick(40)} LIMIT 1)`,
  (sql, pick) => sql`DELETE FROM expenses WHERE id = (SELECT id FROM expenses ORDER BY id OFFSET ${pick(40)} LIMIT 1)`,
  // A project renamed: every month of it changes (its capture maps part of the key).
  (sql, pick) => sql`UPDATE projects SET name = ${`Project ${pick(1e6)}`} WHERE id = (SELECT id FROM projects ORDER BY id OFFSET ${pick(24)} LIMIT 1)`,
  (sql, pick) => sql`
    INSERT INTO rincian_referensi (ahsp_id, kategori, kode_item, uraian_item, satuan_item, koefisien)
    SELECT id, 'BHN', 'M.1', 'Semen', 'kg', ${pick(5)} FROM ahsp_referensi ORDER BY id OFFSET ${pick(20)} LIMIT 1`,
  (sql, pick) => sql`DELETE FROM rincian_referensi WHERE id = (SELECT id FROM rincian_referensi ORDER BY id OFFSET ${pick(100)} LIMIT 1)`,
];

/**
 * Property: with capture triggers and no application event at all, whatever the writes (on
 * other connections, some rolled back, one TRUNCATE) and however they interleave with
 * refreshes in two worker processes, one of them SIGKILLed midway, the captured views end up
 * equal to their definitions, and a full rebuild then corrects nothing.
 */
describe('capture: nothing forgotten', () => {
  const db = useTestDatabase();
  const backends = useTestQueue(db);
  const processes = useChildProcesses();

  it('the captured views equal their definitions once the fleet is quiet, and a full rebuild corrects 0 rows', async () => {
    await migrate({ sql: db.sql, catalog: demoCatalog });
    const { seed, pick, workers } = await startSeededFleet(db, backends, processes);
    let committed = 0;
    for (let round = 0; round < 12; round++) {
      if (round === 6) {
        killWorker(workers[0]!);
        await db.sql`TRUNCATE prize_transactions`;
      }
      for (let i = 0, burst = 1 + pick(8); i < burst; i++) {
        const write = writes[pick(writes.length)]!;
        if (pick(4) === 0) {
          // Rolled back: nothing may be recorded, and the views must not change.
          await db.sql.begin(async (tx) => {
            await write(tx, pick);
            throw new Error('rollback');
          }).catch(() => {});
        } else {
          await write(db.sql, pick);
          committed += 1;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, pick(300)));
    }

    const queue = createRefreshQueue(backends.backend('producer'));
    try {
      await waitUntil('the fleet to go quiet', async () => {
        const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
        const [row] = await db.sql<[{ pending: number }]>`
          SELECT (SELECT count(*) FROM mvfleet.mv_pending_requests WHERE reason <> 'schedule')
               + (SELECT count(*) FROM mvfleet.mv_dirty_keys)
               + (SELECT count(*) FROM mvfleet.mv_refresh_log WHERE status = 'running') AS pending`;
        return Object.values(counts).every((count) => count === 0) && Number(row.pending) === 0;
      }, { timeoutMs: 90_000, intervalMs: 200 });
    } finally {
      await queue.close();
    }
    expect(committed).toBeGreaterThan(10);
    for (const name of CAPTURED) {
      const { actual, expected } = await viewAndReference(db.sql, demoCatalog.get(name));
      expect(actual, `${name} (seed ${seed})`).toEqual(expected);
    }
    const executor = createRefreshExecutor({ sql: db.sql, catalog: demoCatalog });
    for (const name of ['tournament_analytics_summary', 'mv_revenue_by_project_month']) {
      const outcome = await executor.refresh({ view: name, reason: 'schedule' });
      expect(outcome, `${name} (seed ${seed})`).toMatchObject({ status: 'success', strategy: 'full', rowsCorrected: 0 });
    }
  }, 180_000);
});
