import { insertInChunks } from './chunks.js';
import { ANCHOR_DATE, type RowCounts, type SeedContext } from './context.js';
import type { FinanceVolumes } from './scales.js';

/** Every 7th project of a firm is internal: no client, nothing billable. */
const INTERNAL_EVERY = 7;
/** Every 9th project is fixed-fee: invoices and expenses but no time tracking. */
const FIXED_FEE_EVERY = 9;

/**
 * Firms with their clients, people and projects, then a history of time entries,
 * invoices and expenses ending at the anchor date. Each project starts somewhere in the
 * first third of the history; its child rows fall between that day and the anchor.
 *
 * Hours are quarter hours and rates whole currency units, so every `hours * rate` is a
 * whole number of cents: roll-ups over rounded monthly figures then equal sums over rows.
 */
export async function seedFinance(ctx: SeedContext, volumes: FinanceVolumes): Promise<RowCounts> {
  const { sql, seed } = ctx;
  const { firms: firmCount, clientsPerFirm, usersPerFirm, projectsPerFirm, months } = volumes;
  const projectCount = firmCount * projectsPerFirm;

  const firms = await insertInChunks(ctx, 'firms', { parents: firmCount, rowsPerParent: 1 }, ({ first, last }) => sql`
    INSERT INTO firms (id, name, time_zone, created_at)
    SELECT
      f,
      format(
        '%s %s',
        pg_temp.pick(ARRAY['Atlas', 'Northwind', 'Keystone', 'Bluefin', 'Meridian', 'Copperleaf', 'Harbor', 'Summit'], pg_temp.rnd(${seed}, 201, f)),
        pg_temp.pick(ARRAY['Consulting', 'Partners', 'Advisory', 'Studio', 'Engineering'], pg_temp.rnd(${seed}, 202, f))
      ),
      pg_temp.pick(ARRAY['UTC', 'Europe/Paris', 'Asia/Jakarta', 'America/New_York', 'Australia/Sydney'], pg_temp.rnd(${seed}, 203, f)),
      (${ANCHOR_DATE}::date - 1100 - floor(365 * pg_temp.rnd(${seed}, 204, f))::int)::timestamp AT TIME ZONE 'UTC'
    FROM generate_series(${first}::int, ${last}::int) AS f
  `);

  const clients = await insertInChunks(ctx, 'clients', { parents: firmCount, rowsPerParent: clientsPerFirm }, ({ first, last }) => sql`
    INSERT INTO clients (id, firm_id, name)
    SELECT
      c.id,
      f,
      format(
        '%s %s',
        pg_temp.pick(ARRAY['Acme', 'Globex', 'Initech', 'Umbrella', 'Stark', 'Wayne', 'Tyrell', 'Soylent', 'Hooli', 'Vandelay'], pg_temp.rnd(${seed}, 211, c.id)),
        pg_temp.pick(ARRAY['Corp', 'Group', 'Holdings', 'Labs', 'GmbH', 'SA', 'Ltd'], pg_temp.rnd(${seed}, 212, c.id))
      )
    FROM generate_series(${first}::int, ${last}::int) AS f
    CROSS JOIN generate_series(1, ${clientsPerFirm}::int) AS k
    CROSS JOIN LATERAL (SELECT (f - 1) * ${clientsPerFirm}::int + k AS id) c
  `);

  const users = await insertInChunks(ctx, 'users', { parents: firmCount, rowsPerParent: usersPerFirm }, ({ first, last }) => sql`
    INSERT INTO users (id, firm_id, name)
    SELECT
      u.id,
      f,
      format(
        '%s %s',
        pg_temp.pick(ARRAY['Ana', 'Budi', 'Chloé', 'Dmitri', 'Emeka', 'Fatima', 'Giulia', 'Hiro', 'Ines', 'Jonas'], pg_temp.rnd(${seed}, 221, u.id)),
        pg_temp.pick(ARRAY['Martin', 'Santoso', 'Okafor', 'Rossi', 'Tanaka', 'Dubois', 'Novak', 'Silva', 'Kowalski', 'Haddad'], pg_temp.rnd(${seed}, 222, u.id))
      )
    FROM generate_series(${first}::int, ${last}::int) AS f
    CROSS JOIN generate_series(1, ${usersPerFirm}::int) AS k
    CROSS JOIN LATERAL (SELECT (f - 1) * ${usersPerFirm}::int + k AS id) u
  `);

  const projects = await insertInChunks(ctx, 'projects', { parents: firmCount, rowsPerParent: projectsPerFirm }, ({ first, last }) => sql`
    INSERT INTO projects (id, firm_id, client_id, name, project_code, created_at)
    SELECT
      p.id,
      f,
      CASE WHEN k % ${INTERNAL_EVERY}::int <> 0 THEN (f - 1) * ${clientsPerFirm}::int + 1 + floor(${clientsPerFirm}::int * pg_temp.rnd(${seed}, 231, p.id))::int END,
      format(
        '%s %s',
        pg_temp.pick(ARRAY['Website', 'ERP rollout', 'Audit', 'Data platform', 'Brand refresh', 'Mobile app', 'Migration', 'Due diligence'], pg_temp.rnd(${seed}, 232, p.id)),
        k
      ),
      format('P-%s', lpad(k::text, 4, '0')),
      (h.first_day + floor((${ANCHOR_DATE}::date - h.first_day) / 3.0 * pg_temp.rnd(${seed}, 233, p.id))::int)::timestamp AT TIME ZONE 'UTC'
        + interval '1 second' * floor(28800 + 36000 * pg_temp.rnd(${seed}, 234, p.id))
    FROM generate_series(${first}::int, ${last}::int) AS f
    CROSS JOIN generate_series(1, ${projectsPerFirm}::int) AS k
    CROSS JOIN LATERAL (SELECT (f - 1) * ${projectsPerFirm}::int + k AS id) p
    CROSS JOIN (SELECT (${ANCHOR_DATE}::date - make_interval(months => ${months}::int))::date AS first_day) h
  `);

  const entriesPer = volumes.timeEntriesPerProject;
  const timeEntries = await insertInChunks(ctx, 'time_entries', { parents: projectCount, rowsPerParent: entriesPer }, ({ first, last }) => sql`
    INSERT INTO time_entries (id, project_id, user_id, task_id, entry_date, hours, hourly_rate, is_billable, status, approved_at)
    SELECT
      e.id,
      p.id,
      e.user_id,
      CASE WHEN pg_temp.rnd(${seed}, 241, e.id) >= 0.08 THEN p.id * 100 + floor(10 * pg_temp.rnd(${seed}, 242, e.id))::int END,
      e.entry_date,
      0.25 * (1 + floor(32 * pg_temp.rnd(${seed}, 243, e.id))),
      -- each person has a rate; one entry in ten is billed at a rush surcharge
      60 + 10 * floor(20 * pg_temp.rnd(${seed}, 244, e.user_id)) + CASE WHEN pg_temp.rnd(${seed}, 245, e.id) < 0.1 THEN 25 ELSE 0 END,
      p.client_id IS NOT NULL AND pg_temp.rnd(${seed}, 246, e.id) < 0.85,
      s.status,
      CASE WHEN s.status = 'approved' THEN
        (e.entry_date + 1 + floor(9 * pg_temp.rnd(${seed}, 248, e.id))::int)::timestamp AT TIME ZONE 'UTC'
          + interval '1 second' * floor(28800 + 36000 * pg_temp.rnd(${seed}, 249, e.id))
      END
    FROM projects p
    CROSS JOIN LATERAL (SELECT (p.created_at AT TIME ZONE 'UTC')::date AS first_day) w
    CROSS JOIN generate_series(1, ${entriesPer}::int) AS k
    CROSS JOIN LATERAL (
      SELECT
        (p.id - 1) * ${entriesPer}::int + k AS id,
        w.first_day + floor((${ANCHOR_DATE}::date - w.first_day) * pg_temp.rnd(${seed}, 250, (p.id - 1) * ${entriesPer}::int + k))::int AS entry_date,
        -- a team of up to eight people of the project's firm
        (p.firm_id - 1) * ${usersPerFirm}::int + 1
          + (((p.id - 1) % ${projectsPerFirm}::int) * 5 + floor(8 * pg_temp.rnd(${seed}, 251, (p.id - 1) * ${entriesPer}::int + k))::int) % ${usersPerFirm}::int AS user_id
    ) e
    CROSS JOIN LATERAL (SELECT pg_temp.rnd(${seed}, 247, e.id) AS r) x
    CROSS JOIN LATERAL (
      SELECT CASE WHEN x.r < 0.78 THEN 'approved' WHEN x.r < 0.90 THEN 'submitted' WHEN x.r < 0.96 THEN 'draft' ELSE 'rejected' END AS status
    ) s
    WHERE p.id BETWEEN ${first}::int AND ${last}::int AND p.id % ${FIXED_FEE_EVERY}::int <> 0
  `);

  const invoicesPer = volumes.invoicesPerProject;
  const invoices = await insertInChunks(ctx, 'invoices', { parents: projectCount, rowsPerParent: invoicesPer }, ({ first, last }) => sql`
    INSERT INTO invoices (id, project_id, invoice_number, status, issued_on, total_amount, paid_amount, paid_on, paid_at)
    SELECT
      i.id,
      p.id,
      format('INV-%s-%s', lpad(p.id::text, 5, '0'), lpad(k::text, 3, '0')),
      s.status,
      i.issued_on,
      i.total,
      CASE WHEN s.status = 'paid' THEN i.total WHEN s.partly_paid THEN round(i.total * 0.4, 2) ELSE 0 END,
      d.paid_on,
      d.paid_on::timestamp AT TIME ZONE 'UTC' + interval '1 second' * floor(86400 * pg_temp.rnd(${seed}, 265, i.id))
    FROM projects p
    CROSS JOIN LATERAL (SELECT (p.created_at AT TIME ZONE 'UTC')::date AS first_day) w
    CROSS JOIN generate_series(1, ${invoicesPer}::int) AS k
    CROSS JOIN LATERAL (
      SELECT
        (p.id - 1) * ${invoicesPer}::int + k AS id,
        w.first_day + floor((${ANCHOR_DATE}::date - w.first_day) * pg_temp.rnd(${seed}, 261, (p.id - 1) * ${invoicesPer}::int + k))::int AS issued_on,
        round((500 + 49500 * pg_temp.rnd(${seed}, 262, (p.id - 1) * ${invoicesPer}::int + k) ^ 2)::numeric, 2) AS total
    ) i
    CROSS JOIN LATERAL (SELECT pg_temp.rnd(${seed}, 263, i.id) AS r, pg_temp.rnd(${seed}, 264, i.id) AS r2) x
    CROSS JOIN LATERAL (
      SELECT
        CASE WHEN x.r < 0.62 THEN 'paid' WHEN x.r < 0.82 THEN 'sent' WHEN x.r < 0.94 THEN 'draft' ELSE 'void' END AS status,
        -- some sent invoices carry a part payment: booked, but not revenue until paid
        x.r >= 0.62 AND x.r < 0.64 AS partly_paid
    ) s
    CROSS JOIN LATERAL (
      SELECT CASE
        -- a few paid invoices have no booking date (imported from the old system)
        WHEN (s.status = 'paid' AND x.r2 >= 0.03) OR s.partly_paid
          THEN least(i.issued_on + 7 + floor(60 * x.r2)::int, ${ANCHOR_DATE}::date - 1)
      END AS paid_on
    ) d
    WHERE p.id BETWEEN ${first}::int AND ${last}::int
  `);

  const expensesPer = volumes.expensesPerProject;
  const expenses = await insertInChunks(ctx, 'expenses', { parents: projectCount, rowsPerParent: expensesPer }, ({ first, last }) => sql`
    INSERT INTO expenses (id, project_id, incurred_on, category, amount, status)
    SELECT
      x.id,
      p.id,
      w.first_day + floor((${ANCHOR_DATE}::date - w.first_day) * pg_temp.rnd(${seed}, 271, x.id))::int,
      pg_temp.pick(ARRAY['travel', 'lodging', 'meals', 'software', 'equipment', 'subcontractor'], pg_temp.rnd(${seed}, 272, x.id)),
      round((10 + 2990 * pg_temp.rnd(${seed}, 273, x.id) ^ 2)::numeric, 2),
      CASE WHEN x.r < 0.70 THEN 'approved' WHEN x.r < 0.90 THEN 'pending' ELSE 'rejected' END
    FROM projects p
    CROSS JOIN LATERAL (SELECT (p.created_at AT TIME ZONE 'UTC')::date AS first_day) w
    CROSS JOIN generate_series(1, ${expensesPer}::int) AS k
    CROSS JOIN LATERAL (
      SELECT (p.id - 1) * ${expensesPer}::int + k AS id, pg_temp.rnd(${seed}, 274, (p.id - 1) * ${expensesPer}::int + k) AS r
    ) x
    WHERE p.id BETWEEN ${first}::int AND ${last}::int
  `);

  return { firms, clients, users, projects, time_entries: timeEntries, invoices, expenses };
}
