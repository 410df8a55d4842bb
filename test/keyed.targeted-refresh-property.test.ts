import { describe, expect, it } from 'vitest';
import type { Sql } from '../src/core/db.js';
import { createDemoProducer, type DemoProducer } from '../examples/demo/producer.js';
import { createRefreshQueue } from '../src/queue/refresh-queue.js';
import { demoCatalog } from '../examples/demo/schema/catalog.js';
import { verifyView } from '../src/workers/verify-view.js';
import { useTestDatabase } from './helpers/database.js';
import { useChildProcesses } from './helpers/processes.js';
import { useTestQueue } from './helpers/queue-backend.js';
import { startSeededFleet } from './helpers/worker-fleet.js';
import { viewAndReference } from './helpers/reference-views.js';
import { waitUntil } from './helpers/wait.js';

const TOURNAMENTS = 'tournament_analytics_summary';
const REVENUE = 'mv_revenue_by_project_month';
const KEYED = [TOURNAMENTS, REVENUE] as const;

/** What a change needs: the database, the producer, the seeded PRNG and the projects' firms (events name both). */
interface World {
  sql: Sql;
  fleet: DemoProducer;
  random: () => number;
  pick: (n: number) => number;
  firmOf: Map<number, number>;
  nextUser: () => number;
}

/** One committed write to the source tables, then the events of every key it touched. */
type Change = (w: World) => Promise<void>;

const oneOf = <T>(w: World, values: readonly T[]): T => values[w.pick(values.length)]!;

/** A row id of `table` (optionally only `paid`/`approved` ones) picked by the PRNG; ordered by id so a seed replays. */
async function someRow(w: World, table: string, status?: string): Promise<number | null> {
  const only = status ? w.sql`WHERE status = ${status}` : w.sql``;
  const [row] = await w.sql<{ id: number }[]>`
    SELECT id FROM ${w.sql(table)} ${only} ORDER BY id
    OFFSET floor(${w.random()}::float8 * (SELECT count(*) FROM ${w.sql(table)} ${only})) LIMIT 1`;
  return row?.id ?? null;
}

/** A day from 2025-11 to 2026-12, a quarter of them the last day of their month (boundaries). */
function someDay(w: World): string {
  const month = new Date(Date.UTC(2025, 10 + w.pick(14), 1));
  const last = new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + 1, 0)).getUTCDate();
  month.setUTCDate(w.pick(4) === 0 ? last : 1 + w.pick(28));
  return month.toISOString().slice(0, 10);
}

const someProject = (w: World) => [...w.firmOf.keys()][w.pick(w.firmOf.size)]!;

type KeyEvent = 'invoice.paid' | 'time_entry.approved' | 'expense.approved';
const DATE_FIELD = { 'invoice.paid': 'paidOn', 'time_entry.approved': 'entryDate', 'expense.approved': 'incurredOn' } as const;

/** The event of a (project, day) key of the revenue view; a paid invoice without `paid_on` counts in no key. */
async function emitRevenue(w: World, event: KeyEvent, projectId: number, day: string | null) {
  if (day === null) return;
  await w.fleet.emit(event, { firmId: w.firmOf.get(projectId)!, projectId, [DATE_FIELD[event]]: day });
}

const tournamentChanges: Record<string, Change> = {
  'registration added': async (w) => {
    const [t] = await w.sql<[{ tournament_id: number }]>`
      INSERT INTO registrations (tournament_id, user_id, status, checked_in)
      SELECT id, ${w.nextUser()}, ${oneOf(w, ['confirmed', 'pending', 'cancelled'])}, ${w.pick(2) === 1}
      FROM tournaments WHERE id = ${await someRow(w, 'tournaments')} RETURNING tournament_id`;
    await w.fleet.registrationConfirmed({ tournamentId: t.tournament_id });
  },
  'registration confirmed or cancelled': async (w) => {
    const rows = await w.sql<{ tournament_id: number }[]>`
      UPDATE registrations SET status = ${oneOf(w, ['confirmed', 'cancelled'])}, checked_in = ${w.pick(2) === 1}
      WHERE id = ${await someRow(w, 'registrations')} RETURNING tournament_id`;
    for (const row of rows) await w.fleet.registrationConfirmed({ tournamentId: row.tournament_id });
  },
  'registration moved to another tournament': async (w) => {
    const rows = await w.sql<{ before: number; after: number }[]>`
      UPDATE registrations r SET tournament_id = ${await someRow(w, 'tournaments')}, user_id = ${w.nextUser()}
      FROM (SELECT id, tournament_id FROM registrations WHERE id = ${await someRow(w, 'registrations')}) old
      WHERE r.id = old.id RETURNING old.tournament_id AS before, r.tournament_id AS after`;
    for (const row of rows) {
      await w.fleet.registrationConfirmed({ tournamentId: row.before });
      await w.fleet.registrationConfirmed({ tournamentId: row.after });
    }
  },
  'registration deleted': async (w) => {
    const rows = await w.sql<{ tournament_id: number }[]>`
      DELETE FROM registrations WHERE id = ${await someRow(w, 'registrations')} RETURNING tournament_id`;
    for (const row of rows) await w.fleet.registrationConfirmed({ tournamentId: row.tournament_id });
  },
  'match added': async (w) => {
    const [t] = await w.sql<[{ tournament_id: number }]>`
      INSERT INTO matches (tournament_id, round, state, started_at, completed_at)
      SELECT id, ${1 + w.pick(9)}, ${oneOf(w, ['completed', 'disputed', 'live', 'scheduled'])},
             now() - interval '2 hours', now() - interval '2 hours' + make_interval(mins => ${5 + w.pick(90)})
      FROM tournaments WHERE id = ${await someRow(w, 'tournaments')} RETURNING tournament_id`;
    await w.fleet.matchCompleted({ tournamentId: t.tournament_id });
  },
  'match result changed': async (w) => {
    const rows = await w.sql<{ tournament_id: number }[]>`
      UPDATE matches SET state = ${oneOf(w, ['completed', 'disputed', 'live'])},
             started_at = COALESCE(started_at, now() - interval '3 hours'),
             completed_at = COALESCE(started_at, now() - interval '3 hours') + make_interval(mins => ${5 + w.pick(120)})
      WHERE id = ${await someRow(w, 'matches')} RETURNING tournament_id`;
    for (const row of rows) await w.fleet.matchCompleted({ tournamentId: row.tournament_id });
  },
  'match moved to another tournament': async (w) => {
    const rows = await w.sql<{ before: number; after: number }[]>`
      UPDATE matches m SET tournament_id = ${await someRow(w, 'tournaments')}
      FROM (SELECT id, tournament_id FROM matches WHERE id = ${await someRow(w, 'matches')}) old
      WHERE m.id = old.id RETURNING old.tournament_id AS before, m.tournament_id AS after`;
    for (const row of rows) {
      await w.fleet.matchCompleted({ tournamentId: row.before });
      await w.fleet.matchCompleted({ tournamentId: row.after });
    }
  },
  'match deleted': async (w) => {
    const rows = await w.sql<{ tournament_id: number }[]>`
      DELETE FROM matches WHERE id = ${await someRow(w, 'matches')} RETURNING tournament_id`;
    for (const row of rows) await w.fleet.matchCompleted({ tournamentId: row.tournament_id });
  },
  'prize paid': async (w) => {
    const [t] = await w.sql<[{ tournament_id: number }]>`
      INSERT INTO prize_transactions (tournament_id, amount, status)
      SELECT id, ${10 + w.pick(5_000)}, ${oneOf(w, ['completed', 'pending', 'failed'])}
      FROM tournaments WHERE id = ${await someRow(w, 'tournaments')} RETURNING tournament_id`;
    await w.fleet.prizePaid({ tournamentId: t.tournament_id });
  },
  'prize corrected': async (w) => {
    const rows = await w.sql<{ tournament_id: number }[]>`
      UPDATE prize_transactions SET status = ${oneOf(w, ['completed', 'failed'])}, amount = amount + ${w.pick(100)}
      WHERE id = ${await someRow(w, 'prize_transactions')} RETURNING tournament_id`;
    for (const row of rows) await w.fleet.prizePaid({ tournamentId: row.tournament_id });
  },
  'prize deleted': async (w) => {
    const rows = await w.sql<{ tournament_id: number }[]>`
      DELETE FROM prize_transactions WHERE id = ${await someRow(w, 'prize_transactions')} RETURNING tournament_id`;
    for (const row of rows) await w.fleet.prizePaid({ tournamentId: row.tournament_id });
  },
  'tournament status and pool changed': async (w) => {
    const rows = await w.sql<{ id: number }[]>`
      UPDATE tournaments SET status = ${oneOf(w, ['live', 'completed', 'cancelled'])},
             prize_pool = ${w.pick(100_000)}, updated_at = now()
      WHERE id = ${await someRow(w, 'tournaments')} RETURNING id`;
    for (const row of rows) await w.fleet.tournamentFinalized({ tournamentId: row.id });
  },
  'tournament created': async (w) => {
    const [t] = await w.sql<[{ id: number }]>`
      INSERT INTO tournaments (name, game, status, prize_pool, tournament_start)
      VALUES ('Property cup', 'chess', ${oneOf(w, ['registration', 'completed'])}, ${w.pick(10_000)}, now()) RETURNING id`;
    await w.sql`INSERT INTO registrations (tournament_id, user_id, status, checked_in) VALUES (${t.id}, ${w.nextUser()}, 'confirmed', true)`;
    await w.fleet.tournamentFinalized({ tournamentId: t.id });
  },
  'tournament deleted': async (w) => {
    const rows = await w.sql<{ id: number }[]>`DELETE FROM tournaments WHERE id = ${await someRow(w, 'tournaments')} RETURNING id`;
    for (const row of rows) await w.fleet.tournamentFinalized({ tournamentId: row.id });
  },
};

/** Per source table of the revenue view: its key event, date column and counted status. */
const REVENUE_SOURCES = [
  { table: 'invoices', event: 'invoice.paid', day: 'paid_on', counted: 'paid', other: 'void' },
  { table: 'time_entries', event: 'time_entry.approved', day: 'entry_date', counted: 'approved', other: 'rejected' },
  { table: 'expenses', event: 'expense.approved', day: 'incurred_on', counted: 'approved', other: 'rejected' },
] as const;

type Moved = { before_project: number; before_day: string | null; after_project: number; after_day: string };

const revenueChanges: Record<string, Change> = {
  'invoice paid': async (w) => {
    const projectId = someProject(w);
    const day = someDay(w);
    await w.sql`INSERT INTO invoices (project_id, invoice_number, status, issued_on, total_amount, paid_amount, paid_on)
                VALUES (${projectId}, ${`PR-${w.nextUser()}`}, 'paid', ${day}, 900, ${50 + w.pick(900)}, ${day})`;
    await emitRevenue(w, 'invoice.paid', projectId, day);
  },
  'time approved': async (w) => {
    const [entry] = await w.sql<[{ project_id: number; day: string }]>`
      INSERT INTO time_entries (project_id, user_id, task_id, entry_date, hours, hourly_rate, is_billable, status, approved_at)
      SELECT p.id, u.id, ${w.pick(20)}, ${someDay(w)}, ${1 + w.pick(8)}, ${60 + w.pick(60)}, ${w.pick(3) > 0}, 'approved', now()
      FROM projects p JOIN users u ON u.firm_id = p.firm_id
      WHERE p.id = ${someProject(w)} ORDER BY u.id LIMIT 1 RETURNING project_id, entry_date::text AS day`;
    await emitRevenue(w, 'time_entry.approved', entry.project_id, entry.day);
  },
  'expense approved': async (w) => {
    const projectId = someProject(w);
    const day = someDay(w);
    await w.sql`INSERT INTO expenses (project_id, incurred_on, category, amount, status)
                VALUES (${projectId}, ${day}, 'travel', ${10 + w.pick(500)}, 'approved')`;
    await emitRevenue(w, 'expense.approved', projectId, day);
  },
  // Moves a counted row to another day (another month, sometimes another project): both keys change.
  'row moved': async (w) => {
    const source = oneOf(w, REVENUE_SOURCES);
    const target = w.pick(3) === 0 ? someProject(w) : null;
    const rows = await w.sql<Moved[]>`
      UPDATE ${w.sql(source.table)} r SET ${w.sql(source.day)} = ${someDay(w)}, project_id = COALESCE(${target}::integer, r.project_id)
      FROM (SELECT id, project_id, ${w.sql(source.day)} AS day FROM ${w.sql(source.table)}
            WHERE id = ${await someRow(w, source.table, source.counted)}) old
      WHERE r.id = old.id
      RETURNING old.project_id AS before_project, old.day::text AS before_day,
                r.project_id AS after_project, r.${w.sql(source.day)}::text AS after_day`;
    for (const row of rows) {
      await emitRevenue(w, source.event, row.before_project, row.before_day);
      await emitRevenue(w, source.event, row.after_project, row.after_day);
    }
  },
  'row no longer counted': async (w) => {
    const source = oneOf(w, REVENUE_SOURCES);
    const rows = await w.sql<{ project_id: number; day: string | null }[]>`
      UPDATE ${w.sql(source.table)} SET status = ${source.other}
      WHERE id = ${await someRow(w, source.table, source.counted)}
      RETURNING project_id, ${w.sql(source.day)}::text AS day`;
    for (const row of rows) await emitRevenue(w, source.event, row.project_id, row.day);
  },
  'row deleted': async (w) => {
    const source = oneOf(w, REVENUE_SOURCES);
    const rows = await w.sql<{ project_id: number; day: string | null }[]>`
      DELETE FROM ${w.sql(source.table)} WHERE id = ${await someRow(w, source.table, source.counted)}
      RETURNING project_id, ${w.sql(source.day)}::text AS day`;
    for (const row of rows) await emitRevenue(w, source.event, row.project_id, row.day);
  },
  // Deletes every row of one (project, month): the key disappears from the view.
  'project month emptied': async (w) => {
    const [key] = await w.sql<{ project_id: number; month: string }[]>`
      WITH k AS (
        SELECT project_id, date_trunc('month', paid_on)::date AS month FROM invoices WHERE status = 'paid' AND paid_on IS NOT NULL
        UNION SELECT project_id, date_trunc('month', entry_date)::date FROM time_entries WHERE status = 'approved'
        UNION SELECT project_id, date_trunc('month', incurred_on)::date FROM expenses WHERE status = 'approved'
      )
      SELECT project_id, month::text FROM k ORDER BY project_id, month
      OFFSET floor(${w.random()}::float8 * (SELECT count(*) FROM k)) LIMIT 1`;
    if (!key) return;
    for (const source of REVENUE_SOURCES) {
      await w.sql`DELETE FROM ${w.sql(source.table)} WHERE project_id = ${key.project_id}
                  AND ${w.sql(source.day)} >= ${key.month}::date AND ${w.sql(source.day)} < ${key.month}::date + interval '1 month'`;
      await emitRevenue(w, source.event, key.project_id, key.month);
    }
  },
  // A month no row had before: the key appears.
  'expense in a new month': async (w) => {
    const projectId = someProject(w);
    const day = `2027-0${1 + w.pick(6)}-${String(1 + w.pick(28)).padStart(2, '0')}`;
    await w.sql`INSERT INTO expenses (project_id, incurred_on, category, amount, status)
                VALUES (${projectId}, ${day}, 'software', ${10 + w.pick(500)}, 'approved')`;
    await emitRevenue(w, 'expense.approved', projectId, day);
  },
};

/**
 * Property (issue 10): whatever the interleaving of source writes, key-carrying events,
 * targeted refreshes and whole-view refreshes across two worker processes, once the fleet is
 * quiet every keyed view equals its definition exactly, including keys that appeared and
 * keys that disappeared, and nothing failed.
 */
describe('targeted refreshes of keyed views', () => {
  const db = useTestDatabase();
  const backends = useTestQueue(db);
  const processes = useChildProcesses();

  it('end up exact under random inserts, updates, deletes and interleaved full refreshes', async () => {
    const { seed, random, pick, refreshedAt: workloadStart } = await startSeededFleet(db, backends, processes);
    const fleet = createDemoProducer({ backend: backends.backend('producer'), sql: db.sql });
    const projects = await db.sql<{ id: number; firm_id: number }[]>`SELECT id, firm_id FROM projects ORDER BY id`;
    let user = 10_000_000;
    const w: World = {
      sql: db.sql,
      fleet,
      random,
      pick,
      firmOf: new Map(projects.map((project) => [project.id, project.firm_id])),
      nextUser: () => ++user,
    };

    const changes = [...Object.entries(tournamentChanges), ...Object.entries(revenueChanges)];
    const applied: string[] = [];
    const fullRequests: string[] = [];
    const ROUNDS = 18;
    for (let round = 0; round < ROUNDS; round++) {
      const burst = 1 + pick(8);
      for (let i = 0; i < burst; i++) {
        const [name, change] = changes[pick(changes.length)]!;
        await change(w);
        applied.push(name);
      }
      // A whole-view refresh requested while the view's targeted refreshes are queued or running;
      // each keyed view gets at least one (rounds 4 and 9).
      for (const [index, view] of KEYED.entries()) {
        if (pick(4) !== 0 && round !== 4 + 5 * index) continue;
        await waitUntil(`a refresh of ${view} in flight`, async () => {
          const [row] = await db.sql`SELECT count(*)::int AS n FROM mvfleet.mv_refresh_log WHERE status = 'running' AND view_name = ${view}`;
          return row!.n > 0;
        }, { timeoutMs: 1_500, intervalMs: 2 }).catch(() => undefined);
        await fleet.refresh(view);
        fullRequests.push(`${view}@${round}`);
      }
      if (pick(2) === 0) {
        await waitUntil('a refresh in flight', async () => {
          const [row] = await db.sql`SELECT count(*)::int AS n FROM mvfleet.mv_refresh_log WHERE status = 'running'`;
          return row!.n > 0;
        }, { timeoutMs: 2_000, intervalMs: 2 }).catch(() => undefined);
      }
    }

    const queue = createRefreshQueue(backends.backend('producer'));
    await waitUntil('the fleet to go quiet', async () => {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      const [state] = await db.sql<[{ running: number; dirty: number }]>`
        SELECT (SELECT count(*)::int FROM mvfleet.mv_refresh_log WHERE status = 'running') AS running,
               (SELECT count(*)::int FROM mvfleet.mv_dirty_keys) AS dirty`;
      return Object.values(counts).every((count) => count === 0) && state.running === 0 && state.dirty === 0;
    }, { timeoutMs: 40_000, intervalMs: 100 });

    const context = `seed ${seed}; changes ${applied.join(', ')}; full refreshes ${fullRequests.join(', ')}`;
    for (const view of demoCatalog.views) {
      const { actual, expected } = await viewAndReference(db.sql, view);
      expect(actual, `${view.name} (${context})`).toEqual(expected);
    }
    for (const name of KEYED) {
      const verified = await verifyView(db.sql, demoCatalog.store, demoCatalog.get(name));
      expect(verified, `${name} (${context})`).toMatchObject({ differences: 0, pending: 0 });
    }

    const log = await db.sql<{ view_name: string; strategy: string; n: number; keys: number }[]>`
      SELECT view_name, strategy, count(*)::int AS n, COALESCE(sum(keys_refreshed), 0)::int AS keys
      FROM mvfleet.mv_refresh_log
      WHERE status = 'success' AND view_name IN ${db.sql([...KEYED])} AND started_at >= ${workloadStart}
      GROUP BY view_name, strategy ORDER BY view_name, strategy`;
    for (const view of KEYED) {
      for (const strategy of ['targeted', 'full']) {
        const row = log.find((entry) => entry.view_name === view && entry.strategy === strategy);
        expect(row?.n ?? 0, `${strategy} refreshes of ${view} (${context}); log ${JSON.stringify(log)}`).toBeGreaterThan(0);
      }
    }
    expect(log.filter((entry) => entry.strategy === 'targeted').reduce((sum, entry) => sum + entry.keys, 0)).toBeGreaterThan(0);
    const failed = await db.sql`SELECT view_name, error_message FROM mvfleet.mv_refresh_log WHERE status = 'failed'`;
    expect(failed, context).toEqual([]);
    expect(applied.length).toBeGreaterThanOrEqual(ROUNDS);
    await queue.close();
    await fleet.close();
  }, 60_000);
});
