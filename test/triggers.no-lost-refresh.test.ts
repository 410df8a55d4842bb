import { describe, expect, it } from 'vitest';
import type { Sql } from '../src/core/db.js';
import { createDemoProducer, type DemoProducer } from '../examples/demo/producer.js';
import type { RefreshHandle } from '../src/producers/producer.js';
import { createRefreshQueue } from '../src/queue/refresh-queue.js';
import { demoCatalog } from '../examples/demo/schema/catalog.js';
import { useTestDatabase } from './helpers/database.js';
import { useChildProcesses } from './helpers/processes.js';
import { useTestQueue } from './helpers/queue-backend.js';
import { startSeededFleet } from './helpers/worker-fleet.js';
import { viewAndReference } from './helpers/reference-views.js';
import { waitUntil } from './helpers/wait.js';

type Write = (sql: Sql, fleet: DemoProducer, pick: (n: number) => number) => Promise<RefreshHandle>;

/** One source-table write per event type, committed before its event is emitted. */
const writes: Record<string, Write> = {
  'match.completed': async (sql, fleet, pick) => {
    const tournamentId = 1 + pick(100);
    await sql`INSERT INTO matches (tournament_id, round, state, started_at, completed_at)
              VALUES (${tournamentId}, 9, 'completed', now() - interval '40 minutes', now())`;
    return fleet.matchCompleted({ tournamentId });
  },
  'registration.confirmed': async (sql, fleet, pick) => {
    const tournamentId = 1 + pick(100);
    await sql`INSERT INTO registrations (tournament_id, user_id, status, checked_in)
              VALUES (${tournamentId}, ${1_000_000 + pick(1_000_000_000)}, 'confirmed', ${pick(2) === 1})
              ON CONFLICT DO NOTHING`;
    return fleet.registrationConfirmed({ tournamentId });
  },
  'invoice.paid': async (sql, fleet, pick) => {
    const [project] = await sql<[{ id: number; firm_id: number }]>`SELECT id, firm_id FROM projects ORDER BY id OFFSET ${pick(24)} LIMIT 1`;
    const paidOn = `2026-${String(1 + pick(10)).padStart(2, '0')}-15`;
    await sql`INSERT INTO invoices (project_id, invoice_number, status, issued_on, total_amount, paid_amount, paid_on)
              VALUES (${project.id}, ${`P-${pick(1e9)}`}, 'paid', ${paidOn}, 500, ${100 + pick(900)}, ${paidOn})`;
    return fleet.invoicePaid({ firmId: project.firm_id, projectId: project.id, paidOn });
  },
  'time_entry.approved': async (sql, fleet, pick) => {
    const [entry] = await sql<[{ project_id: number; user_id: number; firm_id: number }]>`
      SELECT p.id AS project_id, u.id AS user_id, p.firm_id FROM projects p JOIN users u ON u.firm_id = p.firm_id
      ORDER BY p.id, u.id OFFSET ${pick(40)} LIMIT 1`;
    const entryDate = `2026-0${1 + pick(9)}-1${pick(9)}`;
    await sql`INSERT INTO time_entries (project_id, user_id, task_id, entry_date, hours, hourly_rate, is_billable, status, approved_at)
              VALUES (${entry.project_id}, ${entry.user_id}, ${pick(20)}, ${entryDate},
                      ${1 + pick(7)}, 85, ${pick(3) > 0}, 'approved', now())`;
    return fleet.timeEntryApproved({ firmId: entry.firm_id, projectId: entry.project_id, entryDate });
  },
  'import.finished': async (sql, fleet, pick) => {
    const [ahsp] = await sql<[{ id: number }]>`
      INSERT INTO ahsp_referensi (kode_ahsp, nama_ahsp, sumber) VALUES (${`Z.${pick(1e9)}`}, 'Imported', 'SNI test')
      RETURNING id`;
    await sql`INSERT INTO rincian_referensi (ahsp_id, kategori, kode_item, uraian_item, satuan_item, koefisien)
              VALUES (${ahsp.id}, 'BHN', 'M.1', 'Semen', 'kg', ${pick(5)})`;
    return fleet.importFinished({ sumber: 'SNI test' });
  },
  'budget_version.status_changed': async (sql, fleet, pick) => {
    const [version] = await sql<[{ id: number }]>`
      UPDATE budget_versions SET status = ${['working', 'submitted', 'approved'][pick(3)]!}, updated_at = now()
      WHERE id = (SELECT id FROM budget_versions WHERE deleted_at IS NULL ORDER BY id OFFSET ${pick(4)} LIMIT 1)
      RETURNING id`;
    await sql`INSERT INTO budget_lines (budget_version_id, account_code, label, amount)
              VALUES (${version.id}, ${['641000', '606000', '706000', '215000'][pick(4)]!}, 'change', ${1_000 + pick(9_000)})`;
    return fleet.budgetVersionStatusChanged({ budgetVersionId: version.id });
  },
};

/**
 * Property: whatever the interleaving of writes, events and refreshes in flight across two
 * worker processes, every event is followed by a successful refresh of each of its views
 * that started after it, and once the fleet is quiet every view equals its definition.
 */
describe('no lost refresh', () => {
  const db = useTestDatabase();
  const backends = useTestQueue(db);
  const processes = useChildProcesses();

  it('every event gets a refresh that started after it, and the views end up exact', async () => {
    const { seed, pick } = await startSeededFleet(db, backends, processes);
    const fleet = createDemoProducer({ backend: backends.backend('producer') });

    const events = Object.keys(writes);
    const emitted: { event: string; handle: RefreshHandle }[] = [];
    for (let round = 0; round < 14; round++) {
      const burst = 1 + pick(6);
      for (let i = 0; i < burst; i++) {
        const event = events[pick(events.length)]!;
        emitted.push({ event, handle: await writes[event]!(db.sql, fleet, pick) });
      }
      // Half of the rounds continue only once some refresh is in flight, so writes land mid-refresh.
      if (pick(2) === 0) {
        await waitUntil('a refresh in flight', async () => {
          const [row] = await db.sql`SELECT count(*)::int AS n FROM mvfleet.mv_refresh_log WHERE status = 'running'`;
          return row!.n > 0;
        }, { timeoutMs: 5_000, intervalMs: 5 }).catch(() => undefined);
      }
    }

    const queue = createRefreshQueue(backends.backend('producer'));
    await waitUntil('the fleet to go quiet', async () => {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      const [running] = await db.sql`SELECT count(*)::int AS n FROM mvfleet.mv_refresh_log WHERE status = 'running'`;
      return Object.values(counts).every((count) => count === 0) && running!.n === 0;
    }, { timeoutMs: 90_000, intervalMs: 100 });

    const successes = await db.sql<{ view_name: string; started_at: Date }[]>`
      SELECT view_name, max(started_at) AS started_at FROM mvfleet.mv_refresh_log WHERE status = 'success' GROUP BY view_name`;
    const lastSuccess = new Map(successes.map((row) => [row.view_name, row.started_at]));
    const lost = emitted.flatMap(({ event, handle }) =>
      handle.views
        .filter((view) => !(lastSuccess.get(view)! >= handle.requestedAt))
        .map((view) => `${event} at ${handle.requestedAt.toISOString()} → ${view}`),
    );
    expect(lost, `seed ${seed}`).toEqual([]);
    for (const view of demoCatalog.views) {
      const { actual, expected } = await viewAndReference(db.sql, view);
      expect(actual, `${view.name} (seed ${seed})`).toEqual(expected);
    }
    const [failed] = await db.sql`SELECT count(*)::int AS n FROM mvfleet.mv_refresh_log WHERE status = 'failed'`;
    expect(failed!.n).toBe(0);
    expect(emitted.length).toBeGreaterThan(14);
    await queue.close();
    await fleet.close();
  }, 150_000);
});
