import type { Sql } from '../../src/core/db.js';
import { quoteIdent } from '../../src/core/identifiers.js';

/**
 * Each view's contents, recomputed from the base tables without the view's shape: one
 * correlated subquery per key and column instead of pre-aggregated children joined on
 * the key, and month/week/category boundaries written another way. A fan-out join, a
 * missed soft delete or a wrong filter in a view makes the two disagree.
 */
export const REFERENCE: Record<string, string> = {
  tournament_analytics_summary: `
    SELECT id AS tournament_id, status AS tournament_status,
      participants::integer AS total_participants,
      checked_in::integer AS checked_in_count,
      (CASE WHEN participants = 0 THEN 0 ELSE round(checked_in::numeric / participants, 4) END)::numeric(7, 4) AS check_in_rate,
      total::integer AS total_matches,
      completed::integer AS completed_matches,
      disputed::integer AS disputed_matches,
      (CASE WHEN total = 0 THEN 0 ELSE round(disputed::numeric / total, 4) END)::numeric(7, 4) AS dispute_rate,
      avg_minutes::numeric(12, 4) AS avg_match_duration_minutes,
      prize_pool::numeric(14, 2) AS prize_pool_total,
      distributed::numeric(14, 2) AS prizes_distributed,
      payouts::integer AS payout_count,
      tournament_start AS started_at,
      concluded_at
    FROM (
      SELECT t.*,
        (SELECT t.updated_at WHERE t.status = 'completed') AS concluded_at,
        (SELECT count(*) FROM registrations r WHERE r.tournament_id = t.id AND r.status = 'confirmed') AS participants,
        (SELECT count(*) FROM registrations r WHERE r.tournament_id = t.id AND r.status = 'confirmed' AND r.checked_in) AS checked_in,
        (SELECT count(*) FROM matches m WHERE m.tournament_id = t.id) AS total,
        (SELECT count(*) FROM matches m WHERE m.tournament_id = t.id AND m.state = 'completed') AS completed,
        (SELECT count(*) FROM matches m WHERE m.tournament_id = t.id AND m.state = 'disputed') AS disputed,
        (SELECT round(avg(extract(epoch FROM m.completed_at - m.started_at)) / 60, 4)
           FROM matches m WHERE m.tournament_id = t.id AND m.state = 'completed') AS avg_minutes,
        (SELECT COALESCE(sum(p.amount), 0) FROM prize_transactions p WHERE p.tournament_id = t.id AND p.status = 'completed') AS distributed,
        (SELECT count(*) FROM prize_transactions p WHERE p.tournament_id = t.id AND p.status = 'completed') AS payouts
      FROM tournaments t
    ) x`,

  referensi_ahsp_stats: `
    SELECT a.id AS ahsp_id, a.kode_ahsp, a.nama_ahsp, a.klasifikasi, a.sub_klasifikasi, a.satuan, a.sumber, a.source_file,
      (SELECT count(*) FROM rincian_referensi r WHERE r.ahsp_id = a.id)::integer AS rincian_total,
      (SELECT count(*) FROM rincian_referensi r WHERE r.ahsp_id = a.id AND r.kategori = 'TK')::integer AS tk_count,
      (SELECT count(*) FROM rincian_referensi r WHERE r.ahsp_id = a.id AND r.kategori = 'BHN')::integer AS bhn_count,
      (SELECT count(*) FROM rincian_referensi r WHERE r.ahsp_id = a.id AND r.kategori = 'ALT')::integer AS alt_count,
      (SELECT count(*) FROM rincian_referensi r WHERE r.ahsp_id = a.id AND r.kategori = 'LAIN')::integer AS lain_count,
      (SELECT count(*) FROM rincian_referensi r WHERE r.ahsp_id = a.id AND r.koefisien = 0)::integer AS zero_coef_count,
      (SELECT count(*) FROM rincian_referensi r WHERE r.ahsp_id = a.id AND COALESCE(r.satuan_item, '') = '')::integer AS missing_unit_count,
      COALESCE((SELECT sum(r.koefisien) FROM rincian_referensi r WHERE r.ahsp_id = a.id), 0)::numeric(20, 6) AS total_koefisien
    FROM ahsp_referensi a`,

  // Keys from a calendar of months probed with EXISTS; each figure its own subquery over a date range.
  mv_revenue_by_project_month: `
    WITH bounds AS (
      SELECT min(day) AS first_day, max(day) AS last_day FROM (
        SELECT paid_on AS day FROM invoices UNION ALL SELECT entry_date FROM time_entries UNION ALL SELECT incurred_on FROM expenses
      ) days
    ), calendar AS (
      SELECT m::date AS month, (m + interval '1 month')::date AS next_month
      FROM bounds, generate_series(date_trunc('month', first_day), last_day, interval '1 month') m
    ), keys AS (
      SELECT p.id AS project_id, c.month, c.next_month
      FROM projects p CROSS JOIN calendar c
      WHERE EXISTS (SELECT FROM invoices i WHERE i.project_id = p.id AND i.status = 'paid' AND i.paid_on >= c.month AND i.paid_on < c.next_month)
         OR EXISTS (SELECT FROM time_entries te WHERE te.project_id = p.id AND te.status = 'approved' AND te.entry_date >= c.month AND te.entry_date < c.next_month)
         OR EXISTS (SELECT FROM expenses e WHERE e.project_id = p.id AND e.status = 'approved' AND e.incurred_on >= c.month AND e.incurred_on < c.next_month)
    )
    SELECT p.firm_id, p.id AS project_id, p.name AS project_name, p.project_code, p.client_id, k.month,
      v.revenue::numeric(14, 2) AS total_revenue,
      v.paid::integer AS invoices_paid,
      v.labor::numeric(14, 2) AS labor_cost,
      v.expense::numeric(14, 2) AS expense_cost,
      (v.revenue - v.labor - v.expense)::numeric(14, 2) AS gross_margin,
      v.team::integer AS team_members,
      v.hours::numeric(12, 2) AS total_hours,
      v.billable::numeric(12, 2) AS billable_hours
    FROM keys k
    JOIN projects p ON p.id = k.project_id
    CROSS JOIN LATERAL (SELECT
      COALESCE((SELECT sum(i.paid_amount) FROM invoices i WHERE i.project_id = k.project_id AND i.status = 'paid' AND i.paid_on >= k.month AND i.paid_on < k.next_month), 0) AS revenue,
      (SELECT count(*) FROM invoices i WHERE i.project_id = k.project_id AND i.status = 'paid' AND i.paid_on >= k.month AND i.paid_on < k.next_month) AS paid,
      COALESCE((SELECT sum(te.hours * te.hourly_rate) FROM time_entries te WHERE te.project_id = k.project_id AND te.status = 'approved' AND te.entry_date >= k.month AND te.entry_date < k.next_month), 0) AS labor,
      COALESCE((SELECT sum(e.amount) FROM expenses e WHERE e.project_id = k.project_id AND e.status = 'approved' AND e.incurred_on >= k.month AND e.incurred_on < k.next_month), 0) AS expense,
      (SELECT count(DISTINCT te.user_id) FROM time_entries te WHERE te.project_id = k.project_id AND te.status = 'approved' AND te.entry_date >= k.month AND te.entry_date < k.next_month) AS team,
      COALESCE((SELECT sum(te.hours) FROM time_entries te WHERE te.project_id = k.project_id AND te.status = 'approved' AND te.entry_date >= k.month AND te.entry_date < k.next_month), 0) AS hours,
      COALESCE((SELECT sum(te.hours) FROM time_entries te WHERE te.project_id = k.project_id AND te.status = 'approved' AND te.is_billable AND te.entry_date >= k.month AND te.entry_date < k.next_month), 0) AS billable
    ) v`,

  // Weeks from the ISO day of week rather than date_trunc; each key's entries gathered once.
  mv_utilization_by_user_week: `
    WITH keys AS (
      SELECT DISTINCT p.firm_id, te.user_id, te.entry_date - (extract(isodow FROM te.entry_date)::integer - 1) AS week_start
      FROM time_entries te JOIN projects p ON p.id = te.project_id
      WHERE te.status = 'approved'
    )
    SELECT k.firm_id, k.user_id, k.week_start,
      v.hours::numeric(10, 2) AS total_hours,
      v.billable::numeric(10, 2) AS billable_hours,
      (CASE WHEN v.hours = 0 THEN 0 ELSE round(v.billable / v.hours, 4) END)::numeric(7, 4) AS utilization_rate,
      v.projects::integer AS projects_worked,
      v.days::integer AS days_worked,
      v.cost::numeric(14, 2) AS total_cost
    FROM keys k
    CROSS JOIN LATERAL (
      SELECT array_agg(te.id) AS ids FROM time_entries te
      WHERE te.user_id = k.user_id AND te.status = 'approved' AND te.entry_date BETWEEN k.week_start AND k.week_start + 6
        AND te.project_id IN (SELECT id FROM projects WHERE firm_id = k.firm_id)
    ) w
    CROSS JOIN LATERAL (SELECT
      (SELECT sum(hours) FROM time_entries WHERE id = ANY (w.ids)) AS hours,
      COALESCE((SELECT sum(hours) FROM time_entries WHERE id = ANY (w.ids) AND is_billable), 0) AS billable,
      (SELECT count(DISTINCT project_id) FROM time_entries WHERE id = ANY (w.ids)) AS projects,
      (SELECT count(DISTINCT entry_date) FROM time_entries WHERE id = ANY (w.ids)) AS days,
      (SELECT sum(hours * hourly_rate) FROM time_entries WHERE id = ANY (w.ids)) AS cost
    ) v`,

  mv_utilization_by_project_month: `
    WITH keys AS (
      SELECT DISTINCT te.project_id, make_date(extract(year FROM te.entry_date)::integer, extract(month FROM te.entry_date)::integer, 1) AS month
      FROM time_entries te WHERE te.status = 'approved'
    ), ranged AS (
      SELECT k.project_id, k.month, (k.month + interval '1 month')::date AS next_month FROM keys k
    )
    SELECT p.firm_id, p.id AS project_id, p.name AS project_name, p.client_id, k.month,
      v.hours::numeric(12, 2) AS total_hours,
      v.billable::numeric(12, 2) AS billable_hours,
      (CASE WHEN v.hours = 0 THEN 0 ELSE round(v.billable / v.hours, 4) END)::numeric(7, 4) AS utilization_rate,
      v.team::integer AS team_members,
      v.days::integer AS days_worked,
      v.tasks::integer AS tasks_worked
    FROM ranged k
    JOIN projects p ON p.id = k.project_id
    CROSS JOIN LATERAL (SELECT
      (SELECT sum(te.hours) FROM time_entries te WHERE te.project_id = k.project_id AND te.status = 'approved' AND te.entry_date >= k.month AND te.entry_date < k.next_month) AS hours,
      COALESCE((SELECT sum(te.hours) FROM time_entries te WHERE te.project_id = k.project_id AND te.status = 'approved' AND te.is_billable AND te.entry_date >= k.month AND te.entry_date < k.next_month), 0) AS billable,
      (SELECT count(DISTINCT te.user_id) FROM time_entries te WHERE te.project_id = k.project_id AND te.status = 'approved' AND te.entry_date >= k.month AND te.entry_date < k.next_month) AS team,
      (SELECT count(DISTINCT te.entry_date) FROM time_entries te WHERE te.project_id = k.project_id AND te.status = 'approved' AND te.entry_date >= k.month AND te.entry_date < k.next_month) AS days,
      (SELECT count(DISTINCT te.task_id) FROM time_entries te WHERE te.project_id = k.project_id AND te.status = 'approved' AND te.entry_date >= k.month AND te.entry_date < k.next_month) AS tasks
    ) v`,

  // From the base tables, not from the monthly view: checks the roll-up and its upstream at once.
  mv_revenue_by_firm_quarter: `
    WITH bounds AS (
      SELECT min(day) AS first_day, max(day) AS last_day FROM (
        SELECT paid_on AS day FROM invoices UNION ALL SELECT entry_date FROM time_entries UNION ALL SELECT incurred_on FROM expenses
      ) days
    ), calendar AS (
      SELECT q::date AS quarter, (q + interval '3 months')::date AS next_quarter
      FROM bounds, generate_series(date_trunc('quarter', first_day), last_day, interval '3 months') q
    ), active AS (
      SELECT p.firm_id, p.id AS project_id, c.quarter, c.next_quarter
      FROM projects p CROSS JOIN calendar c
      WHERE EXISTS (SELECT FROM invoices i WHERE i.project_id = p.id AND i.status = 'paid' AND i.paid_on >= c.quarter AND i.paid_on < c.next_quarter)
         OR EXISTS (SELECT FROM time_entries te WHERE te.project_id = p.id AND te.status = 'approved' AND te.entry_date >= c.quarter AND te.entry_date < c.next_quarter)
         OR EXISTS (SELECT FROM expenses e WHERE e.project_id = p.id AND e.status = 'approved' AND e.incurred_on >= c.quarter AND e.incurred_on < c.next_quarter)
    ), keys AS (
      SELECT firm_id, quarter, next_quarter, count(*) AS projects FROM active GROUP BY firm_id, quarter, next_quarter
    )
    SELECT k.firm_id, k.quarter,
      v.revenue::numeric(16, 2) AS total_revenue,
      v.labor::numeric(16, 2) AS labor_cost,
      v.expense::numeric(16, 2) AS expense_cost,
      (v.revenue - v.labor - v.expense)::numeric(16, 2) AS gross_margin,
      v.paid::integer AS invoices_paid,
      v.hours::numeric(14, 2) AS total_hours,
      k.projects::integer AS project_count
    FROM keys k CROSS JOIN LATERAL (SELECT
      COALESCE((SELECT sum(i.paid_amount) FROM invoices i JOIN projects p ON p.id = i.project_id
        WHERE p.firm_id = k.firm_id AND i.status = 'paid' AND i.paid_on >= k.quarter AND i.paid_on < k.next_quarter), 0) AS revenue,
      (SELECT count(*) FROM invoices i JOIN projects p ON p.id = i.project_id
        WHERE p.firm_id = k.firm_id AND i.status = 'paid' AND i.paid_on >= k.quarter AND i.paid_on < k.next_quarter) AS paid,
      COALESCE((SELECT sum(te.hours * te.hourly_rate) FROM time_entries te JOIN projects p ON p.id = te.project_id
        WHERE p.firm_id = k.firm_id AND te.status = 'approved' AND te.entry_date >= k.quarter AND te.entry_date < k.next_quarter), 0) AS labor,
      COALESCE((SELECT sum(te.hours) FROM time_entries te JOIN projects p ON p.id = te.project_id
        WHERE p.firm_id = k.firm_id AND te.status = 'approved' AND te.entry_date >= k.quarter AND te.entry_date < k.next_quarter), 0) AS hours,
      COALESCE((SELECT sum(e.amount) FROM expenses e JOIN projects p ON p.id = e.project_id
        WHERE p.firm_id = k.firm_id AND e.status = 'approved' AND e.incurred_on >= k.quarter AND e.incurred_on < k.next_quarter), 0) AS expense
    ) v`,

  // Categories from left() rather than LIKE.
  mv_kpi_dashboard: `
    SELECT v.id AS budget_version_id, v.name AS version_name, v.fiscal_year, v.status,
      s.students::integer AS total_students,
      s.classes::integer AS class_count,
      s.capacity::integer AS total_capacity,
      (CASE WHEN s.classes = 0 THEN 0 ELSE round(s.students::numeric / s.classes, 2) END)::numeric(8, 2) AS avg_class_size,
      (CASE WHEN s.capacity = 0 THEN 0 ELSE round(s.students::numeric / s.capacity, 4) END)::numeric(7, 4) AS fill_rate,
      s.fte::numeric(10, 2) AS teacher_fte,
      s.hours::numeric(10, 2) AS teaching_hours_per_week,
      (CASE WHEN s.students = 0 THEN 0 ELSE round(s.hours / s.students, 4) END)::numeric(10, 4) AS h_e_ratio,
      (CASE WHEN s.fte = 0 THEN 0 ELSE round(s.students / s.fte, 2) END)::numeric(10, 2) AS students_per_teacher_fte,
      s.revenue::numeric(16, 2) AS total_revenue,
      s.personnel::numeric(16, 2) AS personnel_costs,
      s.operating::numeric(16, 2) AS operating_costs,
      s.capex::numeric(16, 2) AS capex,
      (s.revenue - s.personnel - s.operating)::numeric(16, 2) AS operating_margin,
      (CASE WHEN s.students = 0 THEN 0 ELSE round(s.revenue / s.students, 2) END)::numeric(14, 2) AS revenue_per_student,
      (CASE WHEN s.students = 0 THEN 0 ELSE round(s.personnel / s.students, 2) END)::numeric(14, 2) AS personnel_cost_per_student,
      s.lines::integer AS budget_line_count
    FROM budget_versions v CROSS JOIN LATERAL (SELECT
      COALESCE((SELECT sum(e.student_count) FROM enrollments e WHERE e.budget_version_id = v.id AND e.deleted_at IS NULL), 0) AS students,
      (SELECT count(*) FROM classes c WHERE c.budget_version_id = v.id AND c.deleted_at IS NULL) AS classes,
      COALESCE((SELECT sum(c.max_students) FROM classes c WHERE c.budget_version_id = v.id AND c.deleted_at IS NULL), 0) AS capacity,
      COALESCE((SELECT sum(t.fte) FROM teacher_allocations t WHERE t.budget_version_id = v.id AND t.deleted_at IS NULL), 0) AS fte,
      COALESCE((SELECT sum(t.hours_per_week) FROM teacher_allocations t WHERE t.budget_version_id = v.id AND t.deleted_at IS NULL), 0) AS hours,
      COALESCE((SELECT sum(l.amount) FROM budget_lines l WHERE l.budget_version_id = v.id AND l.deleted_at IS NULL AND left(l.account_code, 1) = '7'), 0) AS revenue,
      COALESCE((SELECT sum(l.amount) FROM budget_lines l WHERE l.budget_version_id = v.id AND l.deleted_at IS NULL AND left(l.account_code, 2) = '64'), 0) AS personnel,
      COALESCE((SELECT sum(l.amount) FROM budget_lines l WHERE l.budget_version_id = v.id AND l.deleted_at IS NULL
        AND left(l.account_code, 1) = '6' AND left(l.account_code, 2) <> '64'), 0) AS operating,
      COALESCE((SELECT sum(l.amount) FROM budget_lines l WHERE l.budget_version_id = v.id AND l.deleted_at IS NULL AND left(l.account_code, 1) = '2'), 0) AS capex,
      (SELECT count(*) FROM budget_lines l WHERE l.budget_version_id = v.id AND l.deleted_at IS NULL) AS lines
    ) s
    WHERE v.deleted_at IS NULL`,

  mv_budget_consolidation: `
    SELECT k.budget_version_id, k.account_code, v.fiscal_year, v.status,
      CASE
        WHEN left(k.account_code, 2) = '64' THEN 'personnel'
        WHEN left(k.account_code, 1) = '6' THEN 'operating'
        WHEN left(k.account_code, 1) = '7' THEN 'revenue'
        WHEN left(k.account_code, 1) = '2' THEN 'capex'
        ELSE 'other'
      END AS consolidation_category,
      (SELECT sum(l.amount) FROM budget_lines l
        WHERE l.budget_version_id = k.budget_version_id AND l.account_code = k.account_code AND l.deleted_at IS NULL)::numeric(16, 2) AS total_amount,
      (SELECT count(*) FROM budget_lines l
        WHERE l.budget_version_id = k.budget_version_id AND l.account_code = k.account_code AND l.deleted_at IS NULL)::integer AS line_count
    FROM (SELECT DISTINCT budget_version_id, account_code FROM budget_lines WHERE deleted_at IS NULL) k
    JOIN budget_versions v ON v.id = k.budget_version_id
    WHERE v.deleted_at IS NULL`,
};

/** Rows of `query` as JSON text, ordered by `key`: numbers, NULLs and timestamps compare exactly. */
export async function rowsAsJson(sql: Sql, query: string, key: readonly string[]): Promise<string[]> {
  return sql.begin(async (tx) => {
    // The correlated plans look expensive to the planner; compiling them with JIT takes longer than running them.
    await tx`SET LOCAL jit = off`;
    const rows = await tx.unsafe<{ row: string }[]>(
      `SELECT row_to_json(q)::text AS row FROM (${query}) q ORDER BY ${key.map(quoteIdent).join(', ')}`,
    );
    return rows.map((row) => row.row);
  });
}

/** A view's rows and its reference's rows, both as JSON text ordered by the view's unique key. */
export async function viewAndReference(sql: Sql, view: { name: string; uniqueKey: readonly string[] }) {
  const actual = await rowsAsJson(sql, `SELECT * FROM ${quoteIdent(view.name)}`, view.uniqueKey);
  const expected = await rowsAsJson(sql, REFERENCE[view.name]!, view.uniqueKey);
  return { actual, expected };
}
